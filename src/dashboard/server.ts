/**
 * The dashboard's HTTP server: server-rendered pages (they read without script), the change
 * feed, the bundled assets, the actions behind the token, and `GET /api/status`. Served by
 * `stagecraft up` on its admin port and by `stagecraft dashboard`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runAction } from './actions.js';
import { loadAssets } from './assets.js';
import { ChangeFeed } from './feed.js';
import { problemPage, page, type PageContext } from './layout.js';
import { COOKIE, allowedHosts, hostAllowed, refuseMutation, signedIn, tokenMatches } from './security.js';
import type { DashboardActions, DashboardSource } from './source.js';
import { functionView } from './views/function.js';
import { matrixView } from './views/matrix.js';
import { releaseView } from './views/release.js';
import { timelineView } from './views/timeline.js';

export interface DashboardOptions {
  source: DashboardSource;
  actions: DashboardActions;
  /** The user's dashboard token: every action needs it. */
  token: string;
  /** The document of `GET /api/status` (default: the source's status). */
  statusDocument?: () => Promise<unknown>;
  /** `POST /api/sync`: read alias changes now instead of at the next poll (smoke tests call it before they send requests). */
  sync?: () => void;
  /** How often the change feed reads the state's change mark while a page listens. */
  pollMs?: number;
  warn: (message: string) => void;
  now?: () => Date;
}

export interface Dashboard {
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // No address goes to another site; `no-referrer` would also make Chromium send `Origin: null` with a form's POST.
  'referrer-policy': 'same-origin',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
};

export function createDashboard(options: DashboardOptions): Dashboard {
  const { source } = options;
  const assets = loadAssets();
  const feed = new ChangeFeed(() => source.changeMark(), options.pollMs ?? 250, options.warn);
  const notices = new Map<string, string>();
  let hosts = new Set<string>();
  const now = options.now ?? (() => new Date());

  const context = (request: IncomingMessage, notice?: string): PageContext => ({
    app: source.manifest.app,
    provider: source.manifest.provider,
    assets,
    signedIn: signedIn(request, options.token),
    actor: options.actions.actor(),
    functions: Object.keys(source.manifest.functions),
    ...(notice ? { notice } : {}),
  });

  async function get(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const send = (status: number, body: string): void => void response.writeHead(status, PAGE_HEADERS).end(body);
    if (path === '/api/status') {
      const document = await (options.statusDocument ?? source.status)();
      response
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(document));
      return;
    }
    if (path === '/events') return feed.subscribe(response);
    if (path.startsWith('/assets/')) {
      if (!assets.serve(path.slice('/assets/'.length), response))
        send(404, problemPage(context(request), { title: 'Not found', message: `no asset ${path}` }, '/'));
      return;
    }
    if (path === '/login') {
      if (!tokenMatches(url.searchParams.get('token') ?? undefined, options.token)) {
        send(
          403,
          problemPage(
            context(request),
            {
              title: 'Wrong token',
              message: 'this login link does not hold the dashboard token',
              hint: 'use the link `stagecraft up` or `stagecraft dashboard` printed last',
            },
            '/',
          ),
        );
        return;
      }
      // SameSite=Strict: no other site's page can make the browser send it.
      response
        .writeHead(303, {
          location: '/',
          'referrer-policy': 'no-referrer',
          'set-cookie': `${COOKIE}=${options.token}; Path=/; HttpOnly; SameSite=Strict`,
        })
        .end();
      return;
    }
    const done = url.searchParams.get('done');
    const notice = done ? notices.get(done) : undefined;
    const ctx = context(request, notice);
    if (path === '/') return send(200, page(ctx, 'Environments', '/', await matrixView(source, ctx.signedIn)));
    if (path === '/timeline') {
      const env = url.searchParams.get('env') || undefined;
      const fn = url.searchParams.get('function') || undefined;
      return send(
        200,
        page(
          ctx,
          'Promotion timeline',
          '/timeline',
          await timelineView(source, { ...(env ? { env } : {}), ...(fn ? { function: fn } : {}) }),
        ),
      );
    }
    const release = /^\/releases\/([\w.-]+)$/.exec(path)?.[1];
    if (release) {
      const found = await source.release(release);
      if (!found)
        return send(
          404,
          problemPage(
            ctx,
            {
              title: 'No such release',
              message: `no release "${release}" in ${source.manifest.app}`,
              hint: 'the timeline links every release',
            },
            '/',
          ),
        );
      return send(200, page(ctx, `Release ${found.id}`, path, await releaseView(source, found)));
    }
    const fn = /^\/functions\/([\w-]+)$/.exec(path)?.[1];
    if (fn) {
      const envs = source.manifest.environments.map((env) => env.name);
      const env = url.searchParams.get('env') ?? envs[0] ?? '';
      if (!(fn in source.manifest.functions) || !envs.includes(env)) {
        return send(
          404,
          problemPage(
            ctx,
            {
              title: 'Not found',
              message: `no function "${fn}" in environment "${env}"`,
              hint: `functions: ${Object.keys(source.manifest.functions).join(', ')}; environments: ${envs.join(', ')}`,
            },
            '/',
          ),
        );
      }
      return send(
        200,
        page(ctx, `Function ${fn} in ${env}`, `/functions/${fn}`, await functionView(source, fn, env, now())),
      );
    }
    if (path === '/favicon.ico') return void response.writeHead(204).end();
    send(404, problemPage(ctx, { title: 'Not found', message: `nothing at ${path}` }, '/'));
  }

  async function post(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === '/api/sync' && options.sync) {
      options.sync();
      response.writeHead(204).end();
      return;
    }
    const action = /^\/actions\/(\w+)$/.exec(url.pathname)?.[1];
    if (!action) {
      response
        .writeHead(405, { 'content-type': 'application/json', allow: 'GET' })
        .end('{"message":"Method Not Allowed"}');
      return;
    }
    const refusal = refuseMutation(request, options.token);
    if (refusal) {
      request.resume();
      response.writeHead(refusal.status, PAGE_HEADERS).end(problemPage(context(request), refusal, '/'));
      return;
    }
    const result = await runAction(options.actions, action, new URLSearchParams(await readBody(request)));
    if (!result.ok) {
      response.writeHead(result.status, PAGE_HEADERS).end(problemPage(context(request), result, '/'));
      return;
    }
    const id = randomUUID();
    notices.set(id, result.notice);
    // Post/redirect/get: a reload does not repeat the action.
    response.writeHead(303, { location: `/?done=${id}` }).end();
  }

  const server: Server = createServer((request, response) => {
    if (!hostAllowed(request, hosts)) {
      response
        .writeHead(421, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`This dashboard does not answer to the host "${request.headers.host ?? ''}".\n`);
      return;
    }
    const url = new URL(request.url ?? '/', 'http://dashboard.invalid');
    const work =
      request.method === 'GET' || request.method === 'HEAD'
        ? get(request, response, url)
        : request.method === 'POST'
          ? post(request, response, url)
          : Promise.resolve(
              void response
                .writeHead(405, { 'content-type': 'application/json', allow: 'GET, POST' })
                .end('{"message":"Method Not Allowed"}'),
            );
    work.catch((error: unknown) => {
      options.warn(`dashboard: ${request.method} ${url.pathname}: ${(error as Error)?.message ?? String(error)}`);
      if (response.headersSent) return void response.end();
      response
        .writeHead(500, PAGE_HEADERS)
        .end(
          problemPage(
            context(request),
            { title: 'Cannot show this page', message: (error as Error)?.message ?? String(error) },
            '/',
          ),
        );
    });
  });

  return {
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const bound = (server.address() as AddressInfo).port;
          hosts = allowedHosts(host, bound);
          resolve(bound);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        feed.close();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/** A form body, at most 64 KiB. */
function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 65_536) reject(new Error('the form is larger than 64 KiB'));
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}
