/** The frame of every page: navigation, the notice of the last action, the assets, who acts. */
import type { Assets } from './assets.js';
import { html, type Markup } from './html.js';

export interface PageContext {
  app: string;
  provider: string;
  assets: Assets;
  signedIn: boolean;
  actor: string;
  functions: string[];
  /** The result of the action just taken (after its redirect). */
  notice?: string;
}

export function page(ctx: PageContext, title: string, current: string, body: Markup): string {
  const link = (href: string, label: string) =>
    html`<a href="${href}" ${current === href ? html` aria-current="page"` : ''}>${label}</a>`;
  return `<!doctype html>${html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>${title} · ${ctx.app} · Stagecraft</title>
      ${ctx.assets.style ? html`<link rel="stylesheet" href="/assets/${ctx.assets.style}" />` : ''}
      ${ctx.assets.script ? html`<script type="module" src="/assets/${ctx.assets.script}"></script>` : ''}
    </head>
    <body>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <p class="brand">Stagecraft · <strong>${ctx.app}</strong> <span class="muted">(${ctx.provider})</span></p>
        <nav aria-label="Views">
          <ul>
            <li>${link('/', 'Environments')}</li>
            <li>${link('/timeline', 'Timeline')}</li>
            ${ctx.functions.map((fn) => html`<li>${link(`/functions/${encodeURIComponent(fn)}`, `Function ${fn}`)}</li>`)}
          </ul>
        </nav>
        <p class="who">
          ${ctx.signedIn ? html`Acting as <strong>${ctx.actor}</strong>` : html`Read-only: open the login link that <code>stagecraft up</code> printed to act`}
        </p>
      </header>
      <main id="main" data-live tabindex="-1">
        <h1>${title}</h1>
        ${ctx.notice ? html`<p class="notice" role="status">${ctx.notice}</p>` : html`<p class="notice" role="status" hidden></p>`}
        ${body}
      </main>
      <footer>
        <p class="muted"><span data-feed>Live updates need JavaScript; reload to see changes.</span></p>
      </footer>
    </body>
  </html>`}`;
}

/** A page that says why an action did not happen, with the hint that fixes it. */
export function problemPage(
  ctx: PageContext,
  problem: { title: string; message: string; hint?: string; code?: string },
  back: string,
): string {
  return page(
    ctx,
    problem.title,
    '',
    html`<div class="problem" role="alert">
        <p>${problem.message}</p>
        ${problem.code ? html`<p class="muted">Code <code>${problem.code}</code></p>` : ''}
        ${problem.hint ? html`<p>Hint: ${problem.hint}</p>` : ''}
      </div>
      <p><a href="${back}">Back</a></p>`,
  );
}
