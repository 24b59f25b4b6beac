export { createDashboard, type Dashboard, type DashboardOptions } from './server.js';
export type { DashboardActions, DashboardSource } from './source.js';
export { dashboardToken, tokenFilePath } from './token.js';
