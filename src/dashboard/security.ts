/**
 * Who may look and who may act. Every request must name this server in `Host` (a DNS-rebinding
 * page names its own domain: https://developer.mozilla.org/en-US/docs/Web/Security/Attacks/DNS_rebinding);
 * every POST must carry the token (cookie or bearer) and, from a browser, come from this origin.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';

export const COOKIE = 'stagecraft_dashboard';

/** The `Host` values that name this server: loopback names, the bound host, and its addresses when bound to all. */
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
  const wildcard = host === '0.0.0.0' || host === '::';
  if (!wildcard) names.add(host.includes(':') ? `[${host}]` : host);
  else {
    for (const addresses of Object.values(networkInterfaces())) {
      for (const address of addresses ?? [])
        names.add(address.family === 'IPv6' ? `[${address.address}]` : address.address);
    }
  }
  return new Set([...names].map((name) => `${name}:${port}`.toLowerCase()));
}

export function hostAllowed(request: IncomingMessage, hosts: Set<string>): boolean {
  return hosts.has((request.headers.host ?? '').toLowerCase());
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) cookies[part.slice(0, index).trim()] = decodeURIComponent(part.slice(index + 1).trim());
  }
  return cookies;
}

/** Compared in constant time, over digests so that lengths do not leak either. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

export function signedIn(request: IncomingMessage, token: string): boolean {
  return tokenMatches(parseCookies(request.headers.cookie)[COOKIE], token) || tokenMatches(bearer(request), token);
}

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

export interface Refusal {
  status: number;
  title: string;
  message: string;
  hint: string;
}

/** Why a POST may not change anything, or undefined when it may. */
export function refuseMutation(request: IncomingMessage, token: string): Refusal | undefined {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const ownOrigin = `http://${request.headers.host ?? ''}`;
  // A browser sends Origin with every POST; a cross-site form or fetch names another origin.
  if (
    (origin !== undefined && origin !== ownOrigin) ||
    (site !== undefined && site !== 'same-origin' && site !== 'none')
  ) {
    return {
      status: 403,
      title: 'Refused: another site',
      message: `this request came from ${origin ?? site}, not from the dashboard at ${ownOrigin}`,
      hint: 'use the buttons on the dashboard itself',
    };
  }
  if (origin === undefined && bearer(request) === undefined) {
    return {
      status: 403,
      title: 'Refused: no origin',
      message: 'a browser request without an Origin header cannot be checked',
      hint: 'use the buttons on the dashboard, or send the token as `Authorization: Bearer …`',
    };
  }
  if (!signedIn(request, token)) {
    return {
      status: 401,
      title: 'Sign in first',
      message: 'this action needs the dashboard token, and this request has none or a wrong one',
      hint: 'open the login link `stagecraft up` or `stagecraft dashboard` printed',
    };
  }
  return undefined;
}
