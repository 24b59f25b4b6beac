/**
 * The Runtime API over a pipe the runtime inherits: Stagecraft's fast carrier for its own Node
 * bootstrap. Each request and each answer is one frame (bootstrap/frames.mjs) holding exactly
 * what the HTTP exchange would — method, path, headers, body; status, headers, body — and the
 * same RuntimeApi answers it, so the runtime sees the same steps, headers, deadlines and error
 * documents. What it saves is HTTP's cost: over loopback every invocation took two TCP
 * connections and two parsed HTTP exchanges, which capped a warm pool at about a thousand
 * invocations a second on two cores (see bench/RESULTS.md).
 *
 * Answers are written once per turn of the event loop, together: the 202 for a response and the
 * next event for the same runtime usually leave in one write and wake the runtime once. (Every
 * write to a pipe wakes a process; on two cores those wake-ups are most of the cost.) A request
 * marked `noReply` — a post whose answer our bootstrap would only drop — is handled the same but
 * answered with nothing, so when no event follows at once the runtime is not woken just to read a
 * 202 it ignores.
 *
 * `provided*` bootstraps never get it: their contract is HTTP on `AWS_LAMBDA_RUNTIME_API`.
 */
import type { Duplex } from 'node:stream';
import { createFrameReader, encodeFrame } from './bootstrap/frames.mjs';
import { MAX_RESPONSE_BYTES, type ApiReply, type RuntimeApi } from './runtime-api.js';

/** The variable that tells our bootstrap which descriptor the pipe is; it removes it at once. */
export const PIPE_FD_VARIABLE = 'STAGECRAFT_RUNTIME_API_FD';
/** Where the pipe sits in the runtime's stdio: after stdin, stdout and stderr. */
export const PIPE_FD = 3;

interface RequestHeader {
  id: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** A post whose sender will not read the answer: none is written. */
  noReply?: boolean;
}

const ignore = (): void => undefined;

export class RuntimeApiPipe {
  /** What to call for requests still waiting when the pipe goes (a parked `next`). */
  private readonly unanswered = new Map<number, () => void>();
  private outgoing: Buffer[] = [];
  private flushing = false;
  private reading = false;

  constructor(
    private readonly socket: Duplex,
    private readonly api: RuntimeApi,
  ) {
    const read = createFrameReader((frame) => this.onFrame(frame.header as RequestHeader, frame.body, frame.bytes), {
      maxBody: MAX_RESPONSE_BYTES,
      // Not our bootstrap on the other end: hang up, as an HTTP server would on garbage.
      onProtocolError: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => {
      this.reading = true;
      read(chunk);
      this.reading = false;
      this.scheduleFlush();
    });
    // A write to a runtime that just died fails with EPIPE; its exit is handled elsewhere.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const forget of this.unanswered.values()) forget();
      this.unanswered.clear();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onFrame(header: RequestHeader, body: string, bytes: number): void {
    const { id } = header;
    const headers = typeof header.headers === 'object' && header.headers !== null ? lowerCase(header.headers) : {};
    // Only a post may go unanswered: an unanswered `next` would swallow its event.
    if (header.noReply === true && header.method === 'POST') {
      this.api.handle({ method: String(header.method), path: String(header.path), headers, body, bytes }, ignore);
      return;
    }
    let answered = false;
    const reply = ({ status, headers, body: text }: ApiReply): void => {
      if (answered) return;
      answered = true;
      this.unanswered.delete(id);
      if (this.socket.destroyed) return;
      // Lower-case names, as Node's HTTP client presents them to the bootstrap.
      const lower: Record<string, string> = {};
      for (const name in headers) lower[name.toLowerCase()] = headers[name] as string;
      this.outgoing.push(encodeFrame({ id, status, headers: lower }, text));
      // Within a read the flush is scheduled once the whole chunk is handled (see the class comment).
      if (!this.reading) this.scheduleFlush();
    };
    const forget = this.api.handle(
      { method: String(header.method), path: String(header.path), headers, body, bytes },
      reply,
    );
    if (!answered) this.unanswered.set(id, forget);
  }

  /**
   * After the immediates already queued — among them the environment's settling of the
   * invocation just answered, whose continuation delivers the next event — so both go together.
   */
  private scheduleFlush(): void {
    if (this.flushing || this.outgoing.length === 0) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const frames = this.outgoing;
      this.outgoing = [];
      if (this.socket.destroyed || frames.length === 0) return;
      this.socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
    });
  }
}

function lowerCase(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const lower: Record<string, string | string[] | undefined> = {};
  for (const name in headers) lower[name.toLowerCase()] = headers[name];
  return lower;
}
