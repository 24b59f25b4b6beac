/**
 * A small client for the Lambda Runtime API.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 *
 * Every request uses its own connection (`agent: false`), closed when the answer is read: no idle
 * keep-alive socket survives into the handler's run, so "the event loop is empty" means what it
 * means on AWS and `beforeExit` fires when the handler's own work is done.
 */
import http from 'node:http';

const PREFIX = '/2018-06-01/runtime';

/** @param {string} endpoint `host:port` from `AWS_LAMBDA_RUNTIME_API` */
export function createRuntimeClient(endpoint) {
  const colon = endpoint.lastIndexOf(':');
  const hostname = endpoint.slice(0, colon);
  const port = Number(endpoint.slice(colon + 1));

  /** @returns {Promise<{status: number, headers: http.IncomingHttpHeaders, body: string}>} */
  function send(method, path, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const req = http.request({ hostname, port, method, path: PREFIX + path, agent: false, headers }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const json = (text) => ({ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  // A header value must be printable ASCII; an error type is user data and may not be.
  const errorTypeHeader = (errorResponse) => String(errorResponse.errorType).replace(/[^\x20-\x7e]/g, '?');

  return {
    /** Waits for the next event. */
    async next() {
      const res = await send('GET', '/invocation/next');
      if (res.status !== 200) throw new Error(`Runtime API next answered ${res.status}: ${res.body}`);
      return res;
    },
    /** @param {string} requestId @param {string} body JSON text */
    postResponse(requestId, body) {
      return send('POST', `/invocation/${encodeURIComponent(requestId)}/response`, body, json(body));
    },
    /** @param {string} requestId @param {{errorType: string}} errorResponse */
    postError(requestId, errorResponse) {
      const body = JSON.stringify(errorResponse);
      return send('POST', `/invocation/${encodeURIComponent(requestId)}/error`, body, {
        ...json(body),
        'Lambda-Runtime-Function-Error-Type': errorTypeHeader(errorResponse),
      });
    },
    /** @param {{errorType: string}} errorResponse */
    postInitError(errorResponse) {
      const body = JSON.stringify(errorResponse);
      return send('POST', '/init/error', body, {
        ...json(body),
        'Lambda-Runtime-Function-Error-Type': errorTypeHeader(errorResponse),
      });
    },
  };
}
