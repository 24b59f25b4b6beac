/**
 * The Lambda Runtime API (version 2018-06-01) of one execution environment: its rules, apart
 * from what carries them. A runtime polls `next`, runs the event and posts a response or an
 * error, exactly as inside Lambda. Two carriers feed this one state machine — HTTP on loopback
 * (runtime-api-server.ts), which any bootstrap in any language speaks, and the pipe our own Node
 * bootstrap may use (runtime-api-pipe.ts) — so both answer every request the same way.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 *
 * One environment runs one invocation at a time, so the API holds at most one parked `next`
 * request, one queued invocation and one invocation in flight.
 */
import { StagecraftError } from '../errors.js';
import type { LambdaError } from './types.js';

export const RUNTIME_API_PREFIX = '/2018-06-01/runtime';

/**
 * Lambda's limit for a synchronous response payload. The odd number is the one Lambda's own
 * error message names ("… maximum allowed payload size (6291556 bytes).").
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const MAX_RESPONSE_BYTES = 6_291_556;

/** What the runtime receives from `GET /invocation/next`. */
export interface Invocation {
  requestId: string;
  /** The event, as JSON text. */
  payload: string;
  /** Epoch milliseconds, sent as `Lambda-Runtime-Deadline-Ms`. */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
  clientContext?: string;
  cognitoIdentity?: string;
}

/** What the API tells its environment. Each call happens once per runtime request. */
export interface RuntimeApiListener {
  /** The runtime asked for work; the first time, this ends its init phase. */
  next(): void;
  /**
   * An invocation left the queue: the runtime now holds it. `before`: the output our Node bootstrap
   * had written when it asked for it (the `next` request's `Stagecraft-Output-Bytes`).
   */
  delivered(invocation: Invocation, before?: OutputBytes): void;
  /** `output`: bytes our Node bootstrap wrote to stdout and stderr before the result (see outputBytesOf). */
  response(requestId: string, payload: string, output?: OutputBytes): void;
  responseTooLarge(requestId: string, bytes: number): void;
  error(requestId: string, error: LambdaError, output?: OutputBytes): void;
  initError(error: LambdaError): void;
}

/** Bytes written to [stdout, stderr] since the runtime started. */
export type OutputBytes = readonly [number, number];

/** Our Node bootstrap's `Stagecraft-Output-Bytes: <stdout>,<stderr>`; other runtimes send none. */
function outputBytesOf(request: ApiRequest): OutputBytes | undefined {
  const value = request.headers['stagecraft-output-bytes'];
  if (typeof value !== 'string') return undefined;
  const [out, err] = value.split(',').map(Number);
  return Number.isSafeInteger(out) && Number.isSafeInteger(err) ? [out!, err!] : undefined;
}

/** One request as a carrier received it. */
export interface ApiRequest {
  method: string;
  /** The full path, e.g. `/2018-06-01/runtime/invocation/next`. */
  path: string;
  /** Lower-case names, as Node's HTTP server presents them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text; empty when it was over the payload limit (see `bytes`). */
  body: string;
  /** The body's size as sent. */
  bytes: number;
}

export interface ApiReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends an answer back over the carrier the request came on. */
export type Replier = (reply: ApiReply) => void;

const NEXT_PATH = `${RUNTIME_API_PREFIX}/invocation/next`;
const INIT_ERROR_PATH = `${RUNTIME_API_PREFIX}/init/error`;
const INVOCATION_PREFIX = `${RUNTIME_API_PREFIX}/invocation/`;

/** `…/invocation/<id>/response` or `…/error`: the id (still URL-encoded) and which; string work, no regex. */
function resultRoute(path: string): { id: string; kind: string } | undefined {
  if (!path.startsWith(INVOCATION_PREFIX)) return undefined;
  const slash = path.indexOf('/', INVOCATION_PREFIX.length);
  if (slash <= INVOCATION_PREFIX.length) return undefined;
  const kind = path.slice(slash + 1);
  return kind === 'response' || kind === 'error'
    ? { id: path.slice(INVOCATION_PREFIX.length, slash), kind }
    : undefined;
}
const JSON_TYPE = { 'Content-Type': 'application/json' };
const forgetNothing = (): void => undefined;

export class RuntimeApi {
  private parkedNext: Replier | undefined;
  /** The output the runtime reported with its parked `next`. */
  private parkedOutput: OutputBytes | undefined;
  private queued: Invocation | undefined;
  private inFlight: string | undefined;
  private initDone = false;

  constructor(private readonly listener: RuntimeApiListener) {}

  /** Hands an invocation to the runtime now if it is waiting in `next`, else at its next `next`. */
  deliver(invocation: Invocation): void {
    if (this.queued !== undefined || this.inFlight !== undefined) {
      throw new StagecraftError('INVOKE_FAILED', 'This execution environment already has an invocation in progress.');
    }
    this.queued = invocation;
    this.flush();
  }

  /** Forgets the current invocation (timed out, or its runtime died): late posts for it get 400. */
  abandon(): void {
    this.queued = undefined;
    this.inFlight = undefined;
  }

  /**
   * Answers one request through `reply` — at once, or later for a parked `next`. Returns what to
   * call if the requester goes away before its answer (a runtime that died while parked), so a
   * dead request is never answered.
   */
  handle(request: ApiRequest, reply: Replier): () => void {
    const q = request.path.indexOf('?');
    const path = q === -1 ? request.path : request.path.slice(0, q);
    if (request.method === 'GET' && path === NEXT_PATH) return this.onNext(reply, outputBytesOf(request));
    if (request.method === 'POST' && path === INIT_ERROR_PATH) this.onInitError(request, reply);
    else {
      const route = request.method === 'POST' ? resultRoute(path) : undefined;
      if (route === undefined) {
        answer(reply, 404, { errorType: 'NotFound', errorMessage: `No route for ${request.method} ${path}` });
      } else {
        const requestId = route.id.includes('%') ? decodeURIComponent(route.id) : route.id;
        if (route.kind === 'response') this.onResponse(requestId, request, reply);
        else this.onError(requestId, request, reply);
      }
    }
    return forgetNothing;
  }

  private flush(): void {
    const reply = this.parkedNext;
    const invocation = this.queued;
    if (reply === undefined || invocation === undefined) return;
    const before = this.parkedOutput;
    this.parkedNext = undefined;
    this.parkedOutput = undefined;
    this.queued = undefined;
    this.inFlight = invocation.requestId;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': String(invocation.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': invocation.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceId,
    };
    if (invocation.clientContext !== undefined) headers['Lambda-Runtime-Client-Context'] = invocation.clientContext;
    if (invocation.cognitoIdentity !== undefined)
      headers['Lambda-Runtime-Cognito-Identity'] = invocation.cognitoIdentity;
    reply({ status: 200, headers, body: invocation.payload });
    this.listener.delivered(invocation, before);
  }

  private onNext(reply: Replier, output: OutputBytes | undefined): () => void {
    if (this.parkedNext !== undefined) {
      answer(reply, 403, {
        errorType: 'InvalidStateTransition',
        errorMessage: 'Another next request is already waiting.',
      });
      return forgetNothing;
    }
    this.initDone = true;
    this.parkedNext = reply;
    this.parkedOutput = output;
    this.listener.next();
    this.flush();
    return () => {
      if (this.parkedNext === reply) {
        this.parkedNext = undefined;
        this.parkedOutput = undefined;
      }
    };
  }

  private onResponse(requestId: string, request: ApiRequest, reply: Replier): void {
    if (!this.claim(requestId, reply)) return;
    if (request.bytes > MAX_RESPONSE_BYTES) {
      answer(reply, 413, {
        errorType: 'RequestEntityTooLarge',
        errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      });
      this.listener.responseTooLarge(requestId, request.bytes);
      return;
    }
    answer(reply, 202, { status: 'OK' });
    this.listener.response(requestId, request.body, outputBytesOf(request));
  }

  private onError(requestId: string, request: ApiRequest, reply: Replier): void {
    if (!this.claim(requestId, reply)) return;
    answer(reply, 202, { status: 'OK' });
    this.listener.error(
      requestId,
      parseError(request.body, request.headers['lambda-runtime-function-error-type']),
      outputBytesOf(request),
    );
  }

  private onInitError(request: ApiRequest, reply: Replier): void {
    if (this.initDone) {
      answer(reply, 403, { errorType: 'InvalidStateTransition', errorMessage: 'Init has already completed.' });
      return;
    }
    answer(reply, 202, { status: 'OK' });
    this.listener.initError(parseError(request.body, request.headers['lambda-runtime-function-error-type']));
  }

  /** Accepts a result only for the invocation in flight, once. */
  private claim(requestId: string, reply: Replier): boolean {
    if (requestId !== this.inFlight) {
      answer(reply, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
      return false;
    }
    this.inFlight = undefined;
    return true;
  }
}

function answer(reply: Replier, status: number, body: object): void {
  reply({ status, headers: JSON_TYPE, body: JSON.stringify(body) });
}

/**
 * Lambda passes a runtime's error document through to the caller; we keep it as sent and only
 * fill what a sloppy runtime left out, from the `Lambda-Runtime-Function-Error-Type` header.
 */
function parseError(text: string, typeHeader: string | string[] | undefined): LambdaError {
  const headerType = typeof typeHeader === 'string' && typeHeader !== '' ? typeHeader : undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const doc = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const error: LambdaError = {
    errorType: typeof doc['errorType'] === 'string' ? doc['errorType'] : (headerType ?? 'Unhandled'),
    errorMessage: typeof doc['errorMessage'] === 'string' ? doc['errorMessage'] : text,
  };
  if (isStringArray(doc['trace'])) error.trace = doc['trace'];
  if (isStringArray(doc['stackTrace'])) error.stackTrace = doc['stackTrace'];
  if (typeof doc['requestId'] === 'string') error.requestId = doc['requestId'];
  return error;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
