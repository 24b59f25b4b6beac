/**
 * The identifiers Lambda hands out per invocation, in their AWS formats. Random bytes come from a
 * pool refilled 4 KB at a time, so an id costs no system call; each id is formatted from one hex
 * string of its bytes (Node's `randomUUID` builds its text a character pair at a time, which at
 * thousands of invocations a second is most of the garbage an invocation leaves behind).
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

/** Random bytes shared by the ids of one process; never handed out twice. */
class RandomPool {
  private readonly bytes = Buffer.allocUnsafe(POOL_BYTES);
  private offset = POOL_BYTES;

  /** `n` fresh random bytes as lower-case hex; `mark` may set bits of them first. */
  hex(n: number, mark?: (bytes: Buffer, at: number) => void): string {
    if (this.offset + n > POOL_BYTES) {
      randomFillSync(this.bytes);
      this.offset = 0;
    }
    const at = this.offset;
    this.offset += n;
    mark?.(this.bytes, at);
    return this.bytes.toString('hex', at, at + n);
  }
}

const pool = new RandomPool();

/** RFC 9562 version 4: the version nibble is 4, the variant bits are 10. */
const markUuidV4 = (bytes: Buffer, at: number): void => {
  bytes[at + 6] = ((bytes[at + 6] as number) & 0x0f) | 0x40;
  bytes[at + 8] = ((bytes[at + 8] as number) & 0x3f) | 0x80;
};

/** A random (version 4) UUID, as Lambda's request ids are. */
export function newRequestId(): string {
  const hex = pool.hex(16, markUuidV4);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * An unsampled X-Ray trace header: `Root=1-<epoch seconds, hex>-<96 random bits>;Parent=<64 random bits>;Sampled=0`.
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader
 */
export function newTraceId(now = Date.now()): string {
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0');
  const random = pool.hex(20);
  return `Root=1-${seconds}-${random.slice(0, 24)};Parent=${random.slice(24)};Sampled=0`;
}
