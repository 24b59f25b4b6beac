/** The identifiers Lambda hands out per invocation, in their AWS formats. */
import { randomUUID } from 'node:crypto';

export function newRequestId(): string {
  return randomUUID();
}

/**
 * An unsampled X-Ray trace header: `Root=1-<epoch seconds, hex>-<96 random bits>;Parent=<64 random bits>;Sampled=0`.
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader
 *
 * The random hex comes from two UUIDs: Node serves `randomUUID` from a cached entropy pool, while
 * `randomBytes` asks the system each time — a tenth of a warm invocation's cost on its own. A v4
 * UUID has 122 random bits; the version digit (12) and the variant digit (16) are skipped.
 */
export function newTraceId(now = Date.now()): string {
  const seconds = Math.floor(now / 1000).toString(16).padStart(8, '0');
  const a = randomUUID();
  const b = randomUUID();
  // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: random at 0-7, 9-12, 15-17, 20-22, 24-35.
  const root = a.slice(0, 8) + a.slice(9, 13) + a.slice(24, 36);
  const parent = b.slice(0, 8) + b.slice(9, 13) + b.slice(15, 18) + b.slice(20, 21);
  return `Root=1-${seconds}-${root};Parent=${parent};Sampled=0`;
}
