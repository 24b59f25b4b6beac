/**
 * Lambda's 4 KB quota on a function's environment variables, measured as Lambda measures them: the
 * variables as one JSON object ("…exceeded the 4KB limit. String measured: {…}").
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const ENVIRONMENT_LIMIT_BYTES = 4096;

/** A sentence naming the size and the largest keys, or undefined when `vars` fit. */
export function environmentSizeProblem(vars: Record<string, string>): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(vars));
  if (bytes <= ENVIRONMENT_LIMIT_BYTES) return undefined;
  const largest = Object.entries(vars)
    .map(([key, value]) => ({ key, size: Buffer.byteLength(JSON.stringify({ [key]: value })) - 2 }))
    .sort((a, b) => b.size - a.size)
    .slice(0, 3)
    .map(({ key, size }) => `${key} (${size} bytes)`);
  return `environment variables take ${bytes} bytes, over Lambda's ${ENVIRONMENT_LIMIT_BYTES}-byte (4 KB) total; largest: ${largest.join(', ')}`;
}
