import { describe, expect, it } from 'vitest';
import { parseSchedule, type Schedule } from '../../../manifest/index.js';
import { compileCron, compileSchedule, ManualClock, nextCronTime, nextFireTime, Scheduler } from './index.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const schedule = (text: string) => parseSchedule(text) as Schedule;
const cron = (fields: string) => compileCron(fields.split(' '));
const next = (fields: string, after: string) => iso(nextCronTime(cron(fields), at(after)));

describe('EventBridge cron', () => {
  it('computes the next fire in UTC with *, lists, ranges, steps and names', () => {
    expect(next('0 12 * * ? *', '2025-01-01T00:00:00Z')).toBe('2025-01-01T12:00:00.000Z');
    expect(next('0 12 * * ? *', '2025-01-01T12:00:00Z')).toBe('2025-01-02T12:00:00.000Z');
    expect(next('0 12 * * ? *', '2025-01-01T11:59:30Z')).toBe('2025-01-01T12:00:00.000Z');
    expect(next('0/15 9-17 ? * MON-FRI *', '2025-01-03T17:50:00Z')).toBe('2025-01-06T09:00:00.000Z');
    expect(next('0/15 9-17 ? * MON-FRI *', '2025-01-06T09:00:00Z')).toBe('2025-01-06T09:15:00.000Z');
    expect(next('5,35 */6 ? * 2-6 *', '2025-01-06T06:10:00Z')).toBe('2025-01-06T06:35:00.000Z');
    expect(next('0 8 1 JAN,jul ? *', '2025-02-01T00:00:00Z')).toBe('2025-07-01T08:00:00.000Z');
    expect(next('0 22-2 ? * FRI-MON *', '2025-01-07T00:00:00Z')).toBe('2025-01-10T00:00:00.000Z'); // hours 22, 23, 0, 1, 2
    expect(next('0 22-2 ? * FRI-MON *', '2025-01-10T02:00:00Z')).toBe('2025-01-10T22:00:00.000Z');
    expect(next('0 22-2 ? * FRI-MON *', '2025-01-13T23:00:00Z')).toBe('2025-01-17T00:00:00.000Z'); // Monday 23:00 → Friday
    expect(next('0 0 29 2 ? *', '2025-01-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('30 1 1 JAN ? 2030', '2025-06-01T00:00:00Z')).toBe('2030-01-01T01:30:00.000Z');
    expect(next('30 1 1 JAN ? 2030', '2030-01-01T01:30:00Z')).toBeUndefined();
  });

  it('supports L, W, LW, <day>L and # the way EventBridge reads them', () => {
    expect(next('0 10 L * ? *', '2025-02-01T00:00:00Z')).toBe('2025-02-28T10:00:00.000Z');
    expect(next('0 10 L * ? *', '2024-02-01T00:00:00Z')).toBe('2024-02-29T10:00:00.000Z');
    expect(next('0 9 15W * ? *', '2025-03-01T00:00:00Z')).toBe('2025-03-14T09:00:00.000Z'); // the 15th is a Saturday
    expect(next('0 9 15W * ? *', '2025-06-01T00:00:00Z')).toBe('2025-06-16T09:00:00.000Z'); // a Sunday
    expect(next('0 9 1W * ? *', '2025-01-31T12:00:00Z')).toBe('2025-02-03T09:00:00.000Z'); // never back into January
    expect(next('0 9 LW * ? *', '2025-05-01T00:00:00Z')).toBe('2025-05-30T09:00:00.000Z');
    expect(next('0 8 ? * 6#3 *', '2025-01-01T00:00:00Z')).toBe('2025-01-17T08:00:00.000Z'); // third Friday
    expect(next('0 8 ? * 2L *', '2025-01-01T00:00:00Z')).toBe('2025-01-27T08:00:00.000Z'); // last Monday
    expect(next('0 8 ? * L *', '2025-01-01T00:00:00Z')).toBe('2025-01-04T08:00:00.000Z'); // L alone: Saturday
  });

  it('refuses what it does not run, with a StagecraftError that names the expression', () => {
    for (const fields of [
      '0 12 * * *',
      '0 12 * * * *',
      '0 12 ? * ? *',
      '60 12 * * ? *',
      '0 24 * * ? *',
      '0 12 L-2 * ? *',
      '0 12 1,L * ? *',
      '0 12 ? * 2#6 *',
      '0 12 * 13 ? *',
      '0 12 * * ? 1969',
      '0/0 12 * * ? *',
      '0 12 ? * MON#1,FRI *',
    ]) {
      expect(() => cron(fields), fields).toThrow(
        expect.objectContaining({ code: 'MANIFEST_INVALID', message: expect.stringContaining(`cron(${fields})`) }),
      );
    }
    expect(() => compileSchedule(schedule('cron(0 12 1 1 ? 2020)'), at('2025-01-01T00:00:00Z'))).toThrow(/never fires/);
    expect(() => compileSchedule(schedule('cron(0 12 30 2 ? *)'), at('2025-01-01T00:00:00Z'))).toThrow(/never fires/);
  });

  it('counts rates in whole periods from when the schedule started', () => {
    const rate = compileSchedule(schedule('rate(5 minutes)'), 0);
    const start = at('2025-01-01T00:00:10Z');
    expect(iso(nextFireTime(rate, start, start))).toBe('2025-01-01T00:05:10.000Z');
    expect(iso(nextFireTime(rate, at('2025-01-01T00:05:10Z'), start))).toBe('2025-01-01T00:10:10.000Z');
    expect(iso(nextFireTime(rate, at('2025-01-01T01:02:00Z'), start))).toBe('2025-01-01T01:05:10.000Z');
  });
});

describe('scheduler', () => {
  const where = { region: 'us-east-1', account: '000000000000' };

  it('fires on a fake clock with the EventBridge scheduled-event document, or the constant input', async () => {
    const clock = new ManualClock(at('2025-01-01T11:58:00Z'));
    const fired: { rule: string; payload: unknown }[] = [];
    const scheduler = new Scheduler({
      ...where,
      clock,
      schedules: [
        {
          rule: 'shop-tick-schedule-1-dev',
          schedule: schedule('rate(1 minute)'),
          invoke: (payload) => {
            fired.push({ rule: 'rate', payload: JSON.parse(payload) });
          },
        },
        {
          rule: 'shop-tick-schedule-2-dev',
          schedule: schedule('cron(0 12 * * ? *)'),
          input: { hello: 'world' },
          invoke: async (payload) => {
            fired.push({ rule: 'cron', payload: JSON.parse(payload) });
          },
        },
      ],
    });
    scheduler.start();
    expect(scheduler.upcoming().map((entry) => iso(entry.next))).toEqual([
      '2025-01-01T11:59:00.000Z',
      '2025-01-01T12:00:00.000Z',
    ]);
    await clock.advance(59_000);
    expect(fired).toEqual([]);
    await clock.advance(1_000);
    expect(fired).toEqual([
      {
        rule: 'rate',
        payload: {
          version: '0',
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '000000000000',
          time: '2025-01-01T11:59:00Z',
          region: 'us-east-1',
          resources: ['arn:aws:events:us-east-1:000000000000:rule/shop-tick-schedule-1-dev'],
          detail: {},
        },
      },
    ]);
    await clock.advance(60_000);
    // Both fall due at 12:00; which goes first does not matter.
    expect(fired.slice(1)).toHaveLength(2);
    expect(fired.slice(1)).toEqual(
      expect.arrayContaining([
        { rule: 'rate', payload: expect.objectContaining({ time: '2025-01-01T12:00:00Z' }) },
        { rule: 'cron', payload: { hello: 'world' } },
      ]),
    );
    await clock.advance(10 * 60_000);
    expect(fired.filter((fire) => fire.rule === 'rate')).toHaveLength(12);
    await scheduler.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(3_600_000);
    expect(fired).toHaveLength(13);
  });

  it('reports a failed delivery and keeps firing', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    let calls = 0;
    const scheduler = new Scheduler({
      ...where,
      clock,
      onError: (error) => errors.push(error),
      schedules: [
        {
          rule: 'r',
          schedule: schedule('rate(1 hour)'),
          invoke: () => {
            calls++;
            throw new Error('no target');
          },
        },
      ],
    });
    scheduler.start();
    await clock.advance(2 * 3_600_000);
    await scheduler.stop();
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it('refuses an unsupported expression when it is built, before anything runs', () => {
    expect(
      () =>
        new Scheduler({
          ...where,
          schedules: [
            {
              rule: 'r',
              schedule: { type: 'cron', fields: ['0', '12', 'L-3', '*', '?', '*'], expression: 'cron(0 12 L-3 * ? *)' },
              invoke: () => undefined,
            },
          ],
        }),
    ).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
