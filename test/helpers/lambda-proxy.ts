/**
 * A proxy in front of moto_server's Lambda that behaves as Lambda does where moto does not: it answers
 * 429 TooManyRequestsException past `perSecond` budgeted calls per second (a token bucket with a
 * burst of as many; GetFunction, GetPolicy and Invoke have quotas of their own,
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests), and 412
 * PreconditionFailedException for an UpdateAlias whose RevisionId is not the alias's (moto ignores it,
 * and keeps an alias's first RevisionId for ever: here every change gives the alias a new one).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LambdaProxy {
  endpoint: string;
  /** Calls answered 429 so far. */
  throttled: number;
  /** Budgeted calls let through to Lambda so far (those answered 429 are not). */
  budgeted: number;
  stop(): Promise<void>;
}

const ALIAS = /^\/2015-03-31\/functions\/[^/]+\/aliases\/[^/?]+$/;
const ALIASES = /^\/2015-03-31\/functions\/[^/]+\/aliases$/;
const UNBUDGETED = [
  /^GET \/2015-03-31\/functions\/[^/?]+(\?.*)?$/,
  /^GET \/2015-03-31\/functions\/[^/?]+\/policy/,
  /^POST \/2015-03-31\/functions\/[^/?]+\/invocations/,
];

export async function startLambdaProxy(target: string, perSecond = 15): Promise<LambdaProxy> {
  let tokens = perSecond;
  let filled = performance.now();
  const take = (): boolean => {
    const now = performance.now();
    tokens = Math.min(perSecond, tokens + ((now - filled) / 1000) * perSecond);
    filled = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  /** Each alias's RevisionId as Lambda would have it, by alias path, once it changed through here. */
  const revisions = new Map<string, string>();
  const proxy: LambdaProxy = { endpoint: '', throttled: 0, budgeted: 0, stop: async () => undefined };
  const refuse = (response: ServerResponse, status: number, type: string, message: string) => {
    response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
    response.end(JSON.stringify({ Type: 'User', message }));
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = request.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (!UNBUDGETED.some((pattern) => pattern.test(`${request.method} ${url}`))) {
      if (!take()) {
        proxy.throttled += 1;
        refuse(response, 429, 'TooManyRequestsException', 'Rate exceeded');
        return;
      }
      proxy.budgeted += 1;
    }
    if (request.method === 'PUT' && ALIAS.test(path)) {
      const wanted = (JSON.parse(body.toString() || '{}') as { RevisionId?: string }).RevisionId;
      if (wanted !== undefined) {
        const current = await fetch(`${target}${path}`, {
          headers: { authorization: request.headers.authorization ?? '' },
        });
        const revision =
          revisions.get(path) ??
          (current.ok ? ((await current.json()) as { RevisionId?: string }).RevisionId : undefined);
        if (revision !== wanted) {
          refuse(
            response,
            412,
            'PreconditionFailedException',
            'The Revision Id provided does not match the latest Revision Id.',
          );
          return;
        }
      }
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([key]) => key !== 'host' && key !== 'content-length'),
    ) as Record<string, string>;
    const answer = await fetch(`${target}${url}`, {
      method: request.method ?? 'GET',
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    const out: Record<string, string> = {};
    answer.headers.forEach((value, key) => {
      if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(key)) out[key] = value;
    });
    let payload = Buffer.from(await answer.arrayBuffer());
    const aliasPath =
      request.method === 'POST' && ALIASES.test(path)
        ? `${path}/${encodeURIComponent((JSON.parse(body.toString() || '{}') as { Name?: string }).Name ?? '')}`
        : ALIAS.test(path)
          ? path
          : undefined;
    if (aliasPath !== undefined && answer.ok) {
      if (request.method === 'DELETE') revisions.delete(aliasPath);
      else {
        if (request.method !== 'GET') revisions.set(aliasPath, randomUUID());
        const revision = revisions.get(aliasPath);
        if (revision !== undefined)
          payload = Buffer.from(
            JSON.stringify({ ...(JSON.parse(payload.toString()) as object), RevisionId: revision }),
          );
      }
    }
    response.writeHead(answer.status, out);
    response.end(payload);
  };
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(502);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
