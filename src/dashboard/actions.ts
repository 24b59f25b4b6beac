/**
 * The POSTs behind the buttons: Approve, Roll back, Resume. Each runs the library function of
 * its CLI command; what the CLI would answer with an exit code becomes a page that says what
 * happened and what to do, with an HTTP status of the same meaning.
 */
import { isStagecraftError } from '../errors.js';
import type { PromotionOutcome } from '../promotion/index.js';
import type { DashboardActions } from './source.js';

export type ActionResult =
  | { ok: true; notice: string }
  | { ok: false; status: number; title: string; message: string; hint?: string; code?: string };

/** HTTP statuses for the CLI's exit codes: 2 invalid input, 3 refused, 1 failed (rolled back). */
const STATUS_BY_KIND = { invalid: 400, refused: 409, failed: 422 } as const;

export async function runAction(actions: DashboardActions, name: string, form: URLSearchParams): Promise<ActionResult> {
  const env = form.get('env')?.trim() ?? '';
  try {
    switch (name) {
      case 'approve':
        if (!env) return missing('env', 'Approve names the environment whose gate opens');
        return fromOutcome(await actions.approve(env), `${env} approved by ${actions.actor()}`);
      case 'rollback': {
        if (!env) return missing('env', 'Roll back names the environment');
        const result = await actions.rollback(env, form.get('reason')?.trim() ?? '');
        const moves = result.functions.map((fn) => `${fn.function} v${fn.from} → v${fn.to}`).join(', ');
        return { ok: true, notice: `${env}: live rolled back by ${actions.actor()} (${moves})` };
      }
      case 'resume':
        return fromOutcome(await actions.resume(), `resumed by ${actions.actor()}`);
      default:
        return {
          ok: false,
          status: 404,
          title: 'No such action',
          message: `there is no action "${name}"`,
          hint: 'the actions are approve, rollback and resume',
        };
    }
  } catch (error) {
    if (!isStagecraftError(error)) {
      return {
        ok: false,
        status: 500,
        title: 'Internal error',
        message: (error as Error)?.message ?? String(error),
        hint: 'this is a bug in Stagecraft; please report it',
      };
    }
    const kind = error.kind;
    return {
      ok: false,
      status: STATUS_BY_KIND[kind],
      code: error.code,
      title: kind === 'refused' ? 'Refused' : kind === 'invalid' ? 'Not possible' : 'Failed',
      message: [error.message, ...error.details].join('; '),
      ...(error.hint ? { hint: error.hint } : {}),
    };
  }
}

function missing(field: string, why: string): ActionResult {
  return { ok: false, status: 400, title: 'Not possible', message: `the form has no ${field}`, hint: why };
}

function fromOutcome(outcome: PromotionOutcome, what: string): ActionResult {
  const where = outcome.environments.map((env) => `${env.name} ${env.step}`).join(', ');
  const summary = `${outcome.promotion} (${outcome.release}): ${outcome.status} — ${where}`;
  switch (outcome.status) {
    case 'succeeded':
    case 'awaiting-approval':
      return { ok: true, notice: `${what}; ${summary}` };
    case 'refused':
      return {
        ok: false,
        status: 409,
        title: 'Refused',
        message: `${summary}: ${outcome.refusal?.reason ?? ''}`,
        hint: 'wait until what refused it is over, then try again',
      };
    default:
      return {
        ok: false,
        status: 422,
        title: 'Failed and rolled back',
        message: `${summary}${outcome.failure ? `: failed in ${outcome.failure.environment} at ${outcome.failure.step}: ${outcome.failure.reason}` : ''}`,
        hint: 'the timeline shows each step; `stagecraft history` the same',
      };
  }
}
