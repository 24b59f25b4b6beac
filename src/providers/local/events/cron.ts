/**
 * EventBridge schedule expressions: `rate(…)` and the six-field `cron(minutes hours
 * day-of-month month day-of-week year)`, in UTC, with `*` `,` `-` `/` `?`, `L` (last day of the
 * month; `5L` the last Thursday), `W` (`15W` the weekday nearest the 15th, `LW` the last
 * weekday) and `#` (`6#3` the third Friday). Day-of-week counts 1 = SUN … 7 = SAT. Exactly one
 * of day-of-month and day-of-week is `?`. What this file does not support is refused when the
 * schedule is compiled, never skipped silently.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
import { StagecraftError } from '../../../errors.js';
import type { Schedule } from '../../../manifest/index.js';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MINUTE = 60_000;
const DAY = 86_400_000;

type DayOfMonth =
  | { kind: 'any' }
  | { kind: 'days'; days: Set<number> }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

type DayOfWeek =
  | { kind: 'any' }
  | { kind: 'days'; days: Set<number> }
  /** `5L`: the last such weekday of the month. */
  | { kind: 'last'; day: number }
  /** `6#3`: the n-th such weekday of the month. */
  | { kind: 'nth'; day: number; n: number };

export interface CronSpec {
  expression: string;
  minutes: number[];
  hours: number[];
  dayOfMonth: DayOfMonth;
  months: Set<number>;
  dayOfWeek: DayOfWeek;
  years: Set<number> | undefined;
}

class CronError extends Error {}

export function compileCron(fields: readonly string[], expression = `cron(${fields.join(' ')})`): CronSpec {
  try {
    if (fields.length !== 6)
      throw new CronError(
        `expected six fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
      );
    const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
    if ((dom === '?') === (dow === '?')) throw new CronError('exactly one of day-of-month and day-of-week must be ?');
    return {
      expression,
      minutes: [...parseList(minutes, 'minutes', 0, 59)].sort((a, b) => a - b),
      hours: [...parseList(hours, 'hours', 0, 23)].sort((a, b) => a - b),
      dayOfMonth: parseDayOfMonth(dom),
      months: parseList(month, 'month', 1, 12, MONTHS),
      dayOfWeek: parseDayOfWeek(dow),
      years: year === '*' ? undefined : parseList(year, 'year', 1970, 2199),
    };
  } catch (error) {
    if (!(error instanceof CronError)) throw error;
    throw new StagecraftError('MANIFEST_INVALID', `schedule ${expression}: ${error.message}`, {
      hint: 'EventBridge cron has six fields in UTC, e.g. cron(0 12 * * ? *) or cron(0/15 9-17 ? * MON-FRI *); see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html',
    });
  }
}

function parseValue(text: string, field: string, min: number, max: number, names?: readonly string[]): number {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + min : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CronError(
      `"${text}" is not a valid ${field} value (${min}-${max}${names ? ` or ${names[0]}-${names[names.length - 1]}` : ''})`,
    );
  }
  return value;
}

/** `*`, `5`, `1,3`, `10-20`, `*\/5`, `0/15`, `10-40/10`; a range may wrap (`FRI-MON`, `22-2`). */
function parseList(text: string, field: string, min: number, max: number, names?: readonly string[]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new CronError(`"${part}" is not a valid ${field} value`);
    const [, range = '', stepText] = match;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw new CronError(`the step in "${part}" must be at least 1`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [min, max];
    else if (range.includes('-')) {
      const [a = '', b = '', ...rest] = range.split('-');
      if (rest.length > 0) throw new CronError(`"${part}" is not a valid ${field} range`);
      [from, to] = [parseValue(a, field, min, max, names), parseValue(b, field, min, max, names)];
    } else {
      from = parseValue(range, field, min, max, names);
      to = stepText === undefined ? from : max;
    }
    const span = to >= from ? to - from : to - from + (max - min + 1);
    for (let offset = 0; offset <= span; offset += step) values.add(((from - min + offset) % (max - min + 1)) + min);
  }
  return values;
}

function parseDayOfMonth(text: string): DayOfMonth {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  if (text === 'LW') return { kind: 'lastWeekday' };
  const weekday = /^(\d+)W$/.exec(text);
  if (weekday) return { kind: 'nearestWeekday', day: parseValue(weekday[1] as string, 'day-of-month', 1, 31) };
  if (/[LW#]/i.test(text))
    throw new CronError(`"${text}" in day-of-month: L, LW and <day>W are supported, each on its own`);
  return { kind: 'days', days: parseList(text, 'day-of-month', 1, 31) };
}

function parseDayOfWeek(text: string): DayOfWeek {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'days', days: new Set([7]) };
  const last = /^(\w+)L$/i.exec(text);
  if (last) return { kind: 'last', day: parseValue(last[1] as string, 'day-of-week', 1, 7, DAYS) };
  const nth = /^(\w+)#(\d+)$/.exec(text);
  if (nth) {
    const n = Number(nth[2]);
    if (n < 1 || n > 5) throw new CronError(`"${text}": the # in day-of-week counts 1 to 5`);
    return { kind: 'nth', day: parseValue(nth[1] as string, 'day-of-week', 1, 7, DAYS), n };
  }
  if (/[LW#]/i.test(text.replace(/WED/gi, '')))
    throw new CronError(`"${text}" in day-of-week: <day>L and <day>#<n> are supported, each on its own`);
  return { kind: 'days', days: parseList(text, 'day-of-week', 1, 7, DAYS) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 = SUN … 7 = SAT. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysInMonth(year, month);
  const target = Math.min(day, last);
  const weekday = weekdayOf(year, month, target);
  // Never across the month's edges: the 1st on a Saturday moves to Monday the 3rd.
  if (weekday === 7) return target === 1 ? 3 : target - 1;
  if (weekday === 1) return target === last ? target - 2 : target + 1;
  return target;
}

function dayMatches(spec: CronSpec, year: number, month: number, day: number): boolean {
  const dom = spec.dayOfMonth;
  const last = daysInMonth(year, month);
  switch (dom.kind) {
    case 'days':
      return dom.days.has(day);
    case 'last':
      return day === last;
    case 'lastWeekday':
      return day === nearestWeekday(year, month, last);
    case 'nearestWeekday':
      return dom.day <= last && day === nearestWeekday(year, month, dom.day);
    case 'any':
      break;
  }
  const dow = spec.dayOfWeek;
  const weekday = weekdayOf(year, month, day);
  switch (dow.kind) {
    case 'days':
      return dow.days.has(weekday);
    case 'last':
      return weekday === dow.day && day + 7 > last;
    case 'nth':
      return weekday === dow.day && Math.ceil(day / 7) === dow.n;
    case 'any':
      return true;
  }
}

/** The first time strictly after `afterMs` the cron fires (whole minutes, UTC), or undefined when it never does again. */
export function nextCronTime(spec: CronSpec, afterMs: number): number | undefined {
  const start = Math.floor(afterMs / MINUTE) * MINUTE + MINUTE;
  let dayStart = Math.floor(start / DAY) * DAY;
  for (;;) {
    const date = new Date(dayStart);
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (year > 2199) return undefined;
    if (spec.years && !spec.years.has(year)) {
      dayStart = Date.UTC(year + 1, 0, 1);
      continue;
    }
    if (!spec.months.has(month)) {
      dayStart = Date.UTC(year, month, 1);
      continue;
    }
    if (dayMatches(spec, year, month, day)) {
      const from = dayStart === Math.floor(start / DAY) * DAY ? (start - dayStart) / MINUTE : 0;
      for (const hour of spec.hours) {
        for (const minute of spec.minutes) {
          if (hour * 60 + minute >= from) return dayStart + (hour * 60 + minute) * MINUTE;
        }
      }
    }
    dayStart += DAY;
  }
}

export type CompiledSchedule =
  { type: 'rate'; everyMs: number; expression: string } | { type: 'cron'; spec: CronSpec; expression: string };

/** Compiles a parsed schedule; refuses (StagecraftError) what it cannot run, including a cron that never fires again. */
export function compileSchedule(schedule: Schedule, nowMs: number): CompiledSchedule {
  if (schedule.type === 'rate') return schedule;
  const spec = compileCron(schedule.fields, schedule.expression);
  if (nextCronTime(spec, nowMs) === undefined) {
    throw new StagecraftError(
      'MANIFEST_INVALID',
      `schedule ${schedule.expression} never fires after ${new Date(nowMs).toISOString()}`,
      {
        hint: 'check the day-of-month, month and year fields',
      },
    );
  }
  return { type: 'cron', spec, expression: schedule.expression };
}

/** The next fire strictly after `afterMs`: a rate counts whole periods from `anchorMs` (when the schedule started). */
export function nextFireTime(schedule: CompiledSchedule, afterMs: number, anchorMs: number): number | undefined {
  if (schedule.type === 'cron') return nextCronTime(schedule.spec, afterMs);
  const periods = Math.max(0, Math.floor((afterMs - anchorMs) / schedule.everyMs)) + 1;
  return anchorMs + periods * schedule.everyMs;
}
