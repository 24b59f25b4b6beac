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

/**
 * Every form a secret value may take in captured text: as set; as JSON escapes it; as
 * `util.inspect` quotes it (`console.log({ t })`: backslashes doubled, a quote escaped); with its
 * newlines turned into `\r` (Lambda's console keeps one call on one line); and, for a value of
 * several lines such as a PEM key, each line in each of those forms, since a stack or an inspected
 * object splits the value and logs are captured a line at a time. Doctor looks for the same forms.
 */
export function secretForms(secret: string): string[] {
  if (secret.length === 0) return [];
  const forms = new Set<string>([...escapes(secret), secret.replace(/\r?\n/g, '\r')]);
  if (/[\r\n]/.test(secret)) {
    for (const piece of secret.split(/\r?\n/))
      if (piece.trim().length >= MIN_PIECE) for (const form of escapes(piece.trim())) forms.add(form);
  }
  return [...forms];
}

function escapes(text: string): string[] {
  const doubled = text.replaceAll('\\', '\\\\');
  // The last: an inspected value as a JSON log record holds it.
  return [
    text,
    JSON.stringify(text).slice(1, -1),
    doubled,
    doubled.replaceAll("'", "\\'"),
    JSON.stringify(doubled).slice(1, -1),
  ];
}

export function createRedactor(secrets: readonly string[]): Redact {
  const forms = new Set<string>();
  for (const secret of secrets) for (const form of secretForms(secret)) forms.add(form);
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
