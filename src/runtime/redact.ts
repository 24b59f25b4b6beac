/**
 * Masking known secret values in what the runtime captures (log lines, function errors) before
 * anything is written or shown: DESIGN §5, invariant 7. A value is masked as it was set, as
 * JSON escapes it (a handler that logs `JSON.stringify(event)`), and, for a value of several
 * lines such as a PEM key, line by line, since logs are captured one line at a time.
 */
import type { LambdaError } from './types.js';

export const MASK = '****';

/** Lines of a multi-line value shorter than this are left alone: masking every `=` or `}` would hide the logs, not the secret. */
const MIN_PIECE = 8;

export type Redact = (text: string) => string;

const identity: Redact = (text) => text;

export function createRedactor(secrets: readonly string[]): Redact {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    if (/[\r\n]/.test(secret)) for (const piece of secret.split(/\r?\n/)) if (piece.trim().length >= MIN_PIECE) forms.add(piece.trim());
  }
  if (forms.size === 0) return identity;
  // Longest first, so that a value containing another is masked whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let masked = text;
    for (const form of ordered) if (masked.includes(form)) masked = masked.split(form).join(MASK);
    return masked;
  };
}

export function redactError(error: LambdaError, redact: Redact): LambdaError {
  if (redact === identity) return error;
  return {
    ...error,
    errorType: redact(error.errorType),
    errorMessage: redact(error.errorMessage),
    ...(error.trace === undefined ? {} : { trace: error.trace.map(redact) }),
    ...(error.stackTrace === undefined ? {} : { stackTrace: error.stackTrace.map(redact) }),
  };
}
