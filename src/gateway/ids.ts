/**
 * The identifiers API Gateway hands out per request, in its formats. Random bytes come from a
 * pool owned by one gateway (refilled 4 KB at a time), so a request costs no system call.
 */
import { randomBytes, randomUUID } from 'node:crypto';

const POOL_BYTES = 4096;

export interface RequestIds {
  /** `JKJaXmPLvHcESHA=`: an HTTP API request id (the `apigw-requestid` header) or a REST `extendedRequestId`. */
  short(): string;
  /** A REST API request id: a UUID. */
  uuid(): string;
  /** `Root=1-<epoch seconds, hex>-<96 random bits, hex>`, the X-Ray header API Gateway adds. */
  traceId(nowMs: number): string;
}

export function createRequestIds(): RequestIds {
  let pool = randomBytes(POOL_BYTES);
  let offset = 0;
  const take = (n: number): Buffer => {
    if (offset + n > POOL_BYTES) {
      pool = randomBytes(POOL_BYTES);
      offset = 0;
    }
    const bytes = pool.subarray(offset, offset + n);
    offset += n;
    return bytes;
  };
  return {
    // 11 bytes are 15 base64 characters and one '=', the length of real ids such as `RL2XYiwjPHcEMEQ=`.
    short: () => take(11).toString('base64'),
    uuid: () => randomUUID(),
    traceId: (nowMs) =>
      `Root=1-${Math.floor(nowMs / 1000)
        .toString(16)
        .padStart(8, '0')}-${take(12).toString('hex')}`,
  };
}
