/** Names the manifest accepts, kept apart from the schema so that using them does not load zod. */
export const RUNTIMES = [
  'nodejs20.x',
  'nodejs22.x',
  'nodejs24.x',
  'provided.al2023',
  'provided.al2',
  'python3.11',
  'python3.12',
  'python3.13',
] as const;
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const;

/** Invocations of the new version an alarm needs in its window before its metric can breach. */
export const DEFAULT_MIN_INVOCATIONS = 20;
export const DEFAULT_ALARM_WINDOW_MS = 60_000;
