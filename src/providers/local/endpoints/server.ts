/**
 * One environment's AWS endpoint: an HTTP server on 127.0.0.1 that answers SQS (JSON and query
 * protocols), SNS (query) and Lambda (REST-JSON), telling them apart by the request itself.
 * Only transport lives here; the protocol files translate, the backends act.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { faultOf } from './fault.js';
import { isLambda, lambdaFault, runLambda, type LambdaBackend } from './lambda.js';
import { runSns, SNS_ACTIONS, SNS_NS, type SnsBackend } from './sns.js';
import { fromSqsJson, isSqsJson, sqsJsonFault, toSqsJson } from './sqs-json.js';
import { runSqs, type SqsBackend } from './sqs-operations.js';
import { fromSqsQuery, queryFault, toSqsQuery } from './sqs-query.js';
import { newRequestId, type WireRequest, type WireResponse } from './wire.js';

export interface EndpointBackends {
  sqs: SqsBackend;
  sns: SnsBackend;
  lambda: LambdaBackend;
  /** Throws the service's fault when the request's signer may not act here. */
  authorize: (authorization: string | undefined, service: 'sqs' | 'sns' | 'lambda') => void;
}

/** Above Lambda's 6 MB synchronous payload, so that its own limit answers. */
const MAX_BODY_BYTES = 7 * 1_048_576;

/** Which service a request is for, from its form: the JSON target, the Lambda path, or the signing scope and action. */
export async function handle(backends: EndpointBackends, request: WireRequest): Promise<WireResponse> {
  const requestId = newRequestId();
  if (isLambda(request)) {
    try {
      backends.authorize(request.headers['authorization'], 'lambda');
      return await runLambda(backends.lambda, request);
    } catch (error) {
      return lambdaFault(faultOf(error, 'InvalidParameterValueException'));
    }
  }
  if (isSqsJson(request)) {
    try {
      backends.authorize(request.headers['authorization'], 'sqs');
      const { operation, input } = fromSqsJson(request);
      return toSqsJson(await runSqs(backends.sqs, operation, input));
    } catch (error) {
      return sqsJsonFault(faultOf(error));
    }
  }
  const params = new URLSearchParams(request.body.toString('utf8'));
  for (const [key, value] of request.query) if (!params.has(key)) params.set(key, value);
  const scope = /Credential=[^/]*\/[^/]*\/[^/]*\/([^/]+)\//.exec(request.headers['authorization'] ?? '')?.[1];
  if (scope === 'sns' || (scope === undefined && SNS_ACTIONS.has(params.get('Action') ?? ''))) {
    try {
      backends.authorize(request.headers['authorization'], 'sns');
      return runSns(backends.sns, params, requestId);
    } catch (error) {
      return queryFault(faultOf(error, 'InvalidParameter'), requestId, SNS_NS);
    }
  }
  try {
    backends.authorize(request.headers['authorization'], 'sqs');
    const { operation, input } = fromSqsQuery(params, request.path);
    return toSqsQuery(operation, await runSqs(backends.sqs, operation, input), requestId);
  } catch (error) {
    return queryFault(faultOf(error), requestId);
  }
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function serve(backends: EndpointBackends, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  if (body === undefined) {
    res
      .writeHead(413, { 'content-type': 'application/json' })
      .end(JSON.stringify({ message: 'Request entity too large' }));
    return;
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]),
  );
  const response = await handle(backends, {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
  });
  res.writeHead(response.status, { ...response.headers, 'content-length': String(Buffer.byteLength(response.body)) });
  res.end(response.body);
}

export interface EndpointServer {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_SQS, _SNS and _LAMBDA. */
  url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 only: the endpoints take any signature, so they must not be reachable from elsewhere. */
export async function listen(backends: EndpointBackends, port = 0): Promise<EndpointServer> {
  const server: Server = createServer((req, res) => {
    serve(backends, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: (error as Error).message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
