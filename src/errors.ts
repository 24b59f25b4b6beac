/**
 * The one error type of Stagecraft. Library code throws it with a stable `code`, a message a
 * person can act on and, where there is one, a hint naming the fix. Only the CLI (and the
 * gateway) turn it into text for people; everything else passes it on untouched.
 */

/** What an error means for the caller, and so for the CLI's exit code (DESIGN §4). */
export type ErrorKind = 'failed' | 'invalid' | 'refused';

const KIND_BY_CODE = {
  // bad input: exit 2, nothing changed
  ARGUMENT_INVALID: 'invalid',
  MANIFEST_NOT_FOUND: 'invalid',
  MANIFEST_INVALID: 'invalid',
  ENVIRONMENT_UNKNOWN: 'invalid',
  FUNCTION_UNKNOWN: 'invalid',
  RELEASE_NOT_FOUND: 'invalid',
  VERSION_NOT_FOUND: 'invalid',
  ALIAS_NOT_FOUND: 'invalid',
  /** A queue the manifest declares but the platform does not have yet (the environment was never deployed). */
  QUEUE_NOT_FOUND: 'invalid',
  NO_RELEASE: 'invalid',
  CONFIG_UNRESOLVED: 'invalid',
  SECRET_NOT_FOUND: 'invalid',
  SECRET_KEY_INVALID: 'invalid',
  /** The state database is missing or empty although the app was used: not a new project. */
  STATE_MISSING: 'invalid',
  // the operation ran and failed: exit 1
  BUILD_FAILED: 'failed',
  CREDENTIAL_FOUND: 'failed',
  ARTIFACT_CORRUPT: 'failed',
  INVOKE_FAILED: 'failed',
  STATE_FAILED: 'failed',
  /** SQLite cannot read the state database; a backup is the way back. */
  STATE_CORRUPT: 'failed',
  PROVIDER_FAILED: 'failed',
  // refused by a rule: exit 3
  LOCK_HELD: 'refused',
  /** This process's lock was taken over (it was silent too long): it must stop changing anything. */
  LOCK_LOST: 'refused',
  /** An interrupted promotion must be resumed (or rolled back) before this command may run. */
  PROMOTION_UNSETTLED: 'refused',
  /** `approve <env> --release R` while another release is the one waiting for that gate. */
  APPROVAL_REFUSED: 'refused',
  STATE_TOO_NEW: 'refused',
  /** `destroy` of a chain environment without --force and a confirmation. */
  DESTROY_REFUSED: 'refused',
  /** `deploy` into an environment behind a manual gate or ahead of the chain, without --force --reason. */
  DEPLOY_PROTECTED: 'refused',
  /** `approve` when no promotion waits at that gate. */
  APPROVAL_NOT_WAITING: 'refused',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof KIND_BY_CODE;

export interface StagecraftErrorOptions {
  /** What to do about it, in one sentence. */
  hint?: string;
  /** Further lines, e.g. one per manifest problem when several are reported at once. */
  details?: readonly string[];
  cause?: unknown;
}

export class StagecraftError extends Error {
  override readonly name = 'StagecraftError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: StagecraftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  get kind(): ErrorKind {
    return KIND_BY_CODE[this.code];
  }

  toJSON(): { code: ErrorCode; kind: ErrorKind; message: string; hint?: string; details?: readonly string[] } {
    return {
      code: this.code,
      kind: this.kind,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.details.length === 0 ? {} : { details: this.details }),
    };
  }
}

export function isStagecraftError(error: unknown): error is StagecraftError {
  return error instanceof StagecraftError;
}

/** Exit codes of DESIGN §4. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, refused: 3 } as const;

export function exitCodeOf(error: unknown): number {
  return isStagecraftError(error) ? EXIT[error.kind] : EXIT.failed;
}
