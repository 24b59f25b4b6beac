/** `stagecraft doctor`: the invariants of DESIGN §5, checked against the state as it is. */
export { doctor, type DoctorContext } from './doctor.js';
export type { DoctorReport, DoctorCheck } from './report.js';
