import { describe, expect, it } from 'vitest';
import { LambdaLogLines, lineRequestId, streamVersion, type LambdaLogEvent } from './lambda-log-lines.js';

const A = '8f5d1e4c-1b2a-4c3d-9e8f-0a1b2c3d4e5f';
const B = '11111111-2222-4333-8444-555555555555';

describe('Lambda log lines', () => {
  it('reads the version from the stream name Lambda gives each execution environment', () => {
    expect(streamVersion('2025/03/07/[3]0f1e2d3c4b5a69788796a5b4c3d2e1f0')).toBe('3');
    expect(streamVersion('2025/03/07/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0')).toBe('$LATEST');
    expect(streamVersion('my-own-stream')).toBe('');
  });

  it('finds the request id a line names: platform lines, the Node and Python runtimes, JSON logs', () => {
    expect(lineRequestId(`START RequestId: ${A} Version: 3`)).toBe(A);
    expect(lineRequestId(`END RequestId: ${A}`)).toBe(A);
    expect(lineRequestId(`REPORT RequestId: ${A}\tDuration: 2.01 ms\tBilled Duration: 3 ms`)).toBe(A);
    expect(lineRequestId(`RequestId: ${A} Error: Runtime exited with error: exit status 1`)).toBe(A);
    expect(lineRequestId(`2025-03-07T10:00:00.000Z\t${A}\tINFO\torder ${B} paid`)).toBe(A);
    expect(lineRequestId(`[INFO]\t2025-03-07T10:00:00.000Z\t${A}\tready`)).toBe(A);
    expect(lineRequestId(`{"timestamp":"2025-03-07T10:00:00Z","level":"INFO","requestId":"${A}","message":"hi"}`)).toBe(
      A,
    );
    expect(lineRequestId(`order ${B} paid`)).toBeUndefined();
    expect(lineRequestId('INIT_START Runtime Version: nodejs:22.v40')).toBeUndefined();
  });

  it('gives a line without one the request whose START came last in its stream, until its END', () => {
    const one = '2025/03/07/[1]aaaa';
    const two = '2025/03/07/[2]bbbb';
    let timestamp = Date.UTC(2025, 2, 7, 10);
    const event = (logStreamName: string, message: string): LambdaLogEvent => ({
      eventId: String(timestamp),
      timestamp: timestamp++,
      logStreamName,
      message,
    });
    const entries = new LambdaLogLines().entries([
      event(one, 'booting\n'),
      event(one, `START RequestId: ${A} Version: 1\n`),
      event(two, `START RequestId: ${B} Version: 2\n`),
      event(one, 'plain print\nsecond line\n'),
      event(two, 'from two\n'),
      event(one, `END RequestId: ${A}\n`),
      event(one, `REPORT RequestId: ${A}\tDuration: 1 ms\n`),
      event(one, 'after the request\n'),
    ]);
    expect(entries.map((entry) => [entry.version, entry.requestId, entry.line])).toEqual([
      ['1', '', 'booting'],
      ['1', A, `START RequestId: ${A} Version: 1`],
      ['2', B, `START RequestId: ${B} Version: 2`],
      ['1', A, 'plain print\rsecond line'],
      ['2', B, 'from two'],
      ['1', A, `END RequestId: ${A}`],
      ['1', A, `REPORT RequestId: ${A}\tDuration: 1 ms`],
      ['1', '', 'after the request'],
    ]);
    expect(entries[0]?.time).toBe('2025-03-07T10:00:00.000Z');
  });
});
