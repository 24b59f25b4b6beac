/**
 * Lambda's invocation payload quotas: 6 MB for a synchronous request, 256 KB for an asynchronous
 * one; over them Invoke answers 413 `RequestEntityTooLargeException`.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
import { StagecraftError } from '../errors.js';

export const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
export const ASYNC_PAYLOAD_LIMIT = 256 * 1024;

export type InvocationKind = 'sync' | 'async';

/** The size in bytes when `text` is over the limit, else undefined; cheap for small text (no byte count). */
export function oversize(text: string, kind: InvocationKind): number | undefined {
  const limit = kind === 'sync' ? SYNC_PAYLOAD_LIMIT : ASYNC_PAYLOAD_LIMIT;
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short text cannot be over.
  if (text.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(text);
  return bytes > limit ? bytes : undefined;
}

/** Throws Lambda's answer for a payload over the quota of its kind of invocation. */
export function assertPayloadSize(text: string, kind: InvocationKind): void {
  const bytes = oversize(text, kind);
  if (bytes === undefined) return;
  const limit = kind === 'sync' ? SYNC_PAYLOAD_LIMIT : ASYNC_PAYLOAD_LIMIT;
  throw new StagecraftError(
    'ARGUMENT_INVALID',
    `RequestEntityTooLargeException: Request must be smaller than ${limit} bytes for the InvokeFunction operation (the payload is ${bytes} bytes).`,
    {
      hint: `Lambda takes at most ${kind === 'sync' ? '6 MB' : '256 KB'} per ${kind === 'sync' ? 'synchronous' : 'asynchronous'} event: pass a reference (an S3 key, a table row) instead of the data.`,
    },
  );
}
