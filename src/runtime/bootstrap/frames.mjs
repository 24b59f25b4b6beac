/**
 * The framing of the Runtime API's pipe transport, shared by both ends (Stagecraft and our Node
 * bootstrap), so the two cannot drift apart. Each message is one frame:
 *
 *   [u32 big-endian: length of the rest] [header: JSON, UTF-8] [\n] [body: raw UTF-8 bytes]
 *
 * A request's header is `{ id, method, path, headers }` (plus `noReply: true` on a post whose
 * answer the sender will not read: it gets none), its answer's `{ id, status, headers }`:
 * the same exchange as the HTTP Runtime API, one frame each way, without HTTP's parsing or a
 * connection per request. The body is never JSON-escaped: an event or a response crosses as the
 * bytes it is. `JSON.stringify` never writes a raw newline, so the first one ends the header.
 */

const LENGTH_BYTES = 4;
const NEWLINE = 0x0a;
/** A frame whose header does not fit in this many bytes is not one of ours. */
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * @param {object} header
 * @param {string} body
 * @returns {Buffer}
 */
export function encodeFrame(header, body) {
  const headerText = `${JSON.stringify(header)}\n`;
  const headerBytes = Buffer.byteLength(headerText);
  const bodyBytes = Buffer.byteLength(body);
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + headerBytes + bodyBytes);
  frame.writeUInt32BE(headerBytes + bodyBytes, 0);
  frame.write(headerText, LENGTH_BYTES, 'utf8');
  if (bodyBytes > 0) frame.write(body, LENGTH_BYTES + headerBytes, 'utf8');
  return frame;
}

/**
 * @typedef {{ header: any, body: string, bytes: number }} Frame
 *   `bytes` is the body's size as sent; over `maxBody` the body itself is dropped (empty).
 */

/**
 * Turns a byte stream back into frames. A body larger than `maxBody` is counted and skipped as it
 * streams through, never held whole, so a runaway response cannot fill the host's memory.
 * @param {(frame: Frame) => void} onFrame
 * @param {{ maxBody?: number, onProtocolError?: (error: Error) => void }} [options]
 * @returns {(chunk: Buffer) => void}
 */
export function createFrameReader(onFrame, options = {}) {
  const maxBody = options.maxBody ?? Number.POSITIVE_INFINITY;
  /** @type {Buffer[]} */
  let chunks = [];
  let length = 0;
  /** @type {{ header: any, bytes: number, left: number } | undefined} */
  let skipping;
  let broken = false;

  /** A buffer starting with the first `n` bytes; leading chunks are joined only when they straddle. */
  const peek = (n) => {
    const first = /** @type {Buffer} */ (chunks[0]);
    if (first.length >= n) return first;
    let count = 0;
    let bytes = 0;
    while (bytes < n) bytes += /** @type {Buffer} */ (chunks[count++]).length;
    const joined = Buffer.concat(chunks.slice(0, count), bytes);
    chunks.splice(0, count, joined);
    return joined;
  };
  /** Drops the first `n` bytes. */
  const drop = (n) => {
    let left = n;
    while (left > 0) {
      const first = /** @type {Buffer} */ (chunks[0]);
      if (first.length <= left) {
        chunks.shift();
        left -= first.length;
      } else {
        chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    length -= n;
  };
  const fail = (message) => {
    broken = true;
    chunks = [];
    length = 0;
    options.onProtocolError?.(new Error(message));
  };

  const step = () => {
    if (skipping !== undefined) {
      const n = Math.min(skipping.left, length);
      drop(n);
      skipping.left -= n;
      if (skipping.left > 0) return false;
      const done = skipping;
      skipping = undefined;
      onFrame({ header: done.header, body: '', bytes: done.bytes });
      return true;
    }
    if (length < LENGTH_BYTES) return false;
    const size = peek(LENGTH_BYTES).readUInt32BE(0);
    const whole = length >= LENGTH_BYTES + size;
    // An ordinary frame still arriving: wait for all of it (joined once, when complete).
    if (!whole && size <= maxBody) return false;
    // Possibly oversized: its header is all we ever need of it.
    const inspect = whole ? size : Math.min(size, MAX_HEADER_BYTES + 1);
    if (length < LENGTH_BYTES + inspect) return false;
    const view = peek(LENGTH_BYTES + inspect).subarray(LENGTH_BYTES, LENGTH_BYTES + inspect);
    const newline = view.indexOf(NEWLINE);
    if (newline < 0 || newline > MAX_HEADER_BYTES) {
      fail('a Runtime API frame without a header');
      return false;
    }
    let header;
    try {
      header = JSON.parse(view.toString('utf8', 0, newline));
    } catch {
      fail('a Runtime API frame with a header that is not JSON');
      return false;
    }
    const bytes = size - newline - 1;
    if (bytes > maxBody) {
      // Oversized: keep only the header, let the rest stream past.
      drop(LENGTH_BYTES + newline + 1);
      skipping = { header, bytes, left: bytes };
      return true;
    }
    if (!whole) return false;
    const body = view.toString('utf8', newline + 1);
    drop(LENGTH_BYTES + size);
    onFrame({ header, body, bytes });
    return true;
  };

  return (chunk) => {
    if (broken) return;
    chunks.push(chunk);
    length += chunk.length;
    while (!broken && step());
  };
}
