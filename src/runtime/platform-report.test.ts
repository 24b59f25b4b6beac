import { describe, expect, it } from 'vitest';
import { billedMs, exitReason, reportLine } from './platform-report.js';

describe('platform lines', () => {
  it("words a dead runtime the way Lambda's Go service does", () => {
    expect(exitReason(1, null)).toBe('Runtime exited with error: exit status 1');
    expect(exitReason(null, 'SIGKILL')).toBe('Runtime exited with error: signal: killed');
    expect(exitReason(null, 'SIGABRT')).toBe('Runtime exited with error: signal: aborted');
    expect(exitReason(0, null)).toBe('Runtime exited without providing a reason');
  });

  it('bills whole milliseconds, rounding up, at least one', () => {
    expect([billedMs(0.2), billedMs(12.01), billedMs(13)]).toEqual([1, 13, 13]);
  });

  it('formats REPORT with tabs, init duration and status only when given', () => {
    const base = { requestId: 'r', version: '1', durationMs: 12.345, billedMs: 13, memoryMb: 128, maxMemoryMb: 57 };
    expect(reportLine(base)).toBe(
      'REPORT RequestId: r\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 57 MB',
    );
    expect(reportLine({ ...base, initDurationMs: 123.456, status: { kind: 'timeout' } })).toBe(
      'REPORT RequestId: r\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 57 MB\tInit Duration: 123.46 ms\tStatus: timeout',
    );
  });
});
