/**
 * The admin endpoint of `stagecraft up` on port P: `GET /api/status` (what runs where, and the
 * gateway URLs) and a small page that shows the same. A fuller dashboard comes later; the API
 * shape is what it will build on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DashboardOptions {
  /** The document served at /api/status, computed per request. */
  status: () => Promise<unknown>;
  title: string;
  /** `POST /api/sync`: read alias changes now instead of at the next poll (smoke tests call it before they send requests). */
  sync?: () => void;
}

export interface Dashboard {
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/api/sync' && request.method === 'POST' && options.sync) {
      options.sync();
      response.writeHead(204).end();
      return;
    }
    if (request.method !== 'GET') {
      response.writeHead(405, { 'content-type': 'application/json', allow: 'GET' }).end('{"message":"Method Not Allowed"}');
      return;
    }
    if (path === '/api/status') {
      options.status().then(
        (status) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status)),
        (error: unknown) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: (error as Error).message })),
      );
      return;
    }
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(options.title));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
  });
  return {
    listen: (port, host = '127.0.0.1') => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    }),
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}

function page(title: string): string {
  const safe = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${safe} · Stagecraft</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}code{font-size:12px}</style>
</head><body><h1>${safe}</h1><div id="status">loading…</div>
<script type="module">
const esc = (s) => String(s ?? '-').replace(/[<>&"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
async function load() {
  const status = await (await fetch('/api/status')).json();
  document.getElementById('status').innerHTML = status.environments.map((env) =>
    '<h2>' + esc(env.name) + ' <small><a href="' + esc(env.url) + '">' + esc(env.url) + '</a></small></h2><table><tr><th>function</th><th>live</th><th>smoke</th><th>release</th><th>sha256</th></tr>' +
    env.functions.map((fn) => '<tr><td>' + esc(fn.function) + '</td><td>' + esc(fn.live && 'v' + fn.live.version) + '</td><td>' + esc(fn.smoke && 'v' + fn.smoke.version) +
      '</td><td>' + esc(fn.live && fn.live.release) + '</td><td><code>' + esc(fn.live && fn.live.sha256.slice(0, 16)) + '</code></td></tr>').join('') + '</table>').join('');
}
load(); setInterval(load, 2000);
</script></body></html>`;
}
