/**
 * Environments × functions: what `live` and `smoke` run, from which release, artifact and
 * commit, since when and moved by whom; a release unlike the previous environment's is marked.
 * Above it, the promotions waiting for a person: Approve (with what goes live and what the
 * smoke tests said) or Resume. Each environment has its Roll back.
 */
import { aliasName } from '../../manifest/index.js';
import type { AliasStatus, AppStatus, PendingPromotion } from '../../promotion/index.js';
import type { LedgerEntry } from '../../state/index.js';
import { html, time, type Markup } from '../html.js';
import type { DashboardSource } from '../source.js';

export async function matrixView(source: DashboardSource, signedIn: boolean): Promise<Markup> {
  const [status, moves] = await Promise.all([source.status(), source.ledger({ kind: 'alias.moved' })]);
  const mover = lastMover(moves);
  const functions = Object.keys(source.manifest.functions);
  const urls = new Map((source.urls?.() ?? []).map((entry) => [entry.name, entry.url]));
  const pending = await Promise.all(
    status.promotions.map((promotion) => pendingView(source, status, promotion, signedIn)),
  );
  const rows = status.environments.map((env, index) => {
    const previous = status.environments[index - 1];
    const cells = functions.map((fn) => {
      const cell = env.functions.find((candidate) => candidate.function === fn);
      const before = previous?.functions.find((candidate) => candidate.function === fn)?.live?.release;
      const by = mover.get(`${cell?.instance}|${aliasName(source.manifest, env.name, 'live')}`);
      return html`<td data-env="${env.name}" data-function="${fn}">
        ${aliasCell(cell?.live ?? null, cell?.smoke ?? null, previous?.name, before, by)}
      </td>`;
    });
    const url = urls.get(env.name);
    return html`<tr data-env="${env.name}">
      <th scope="row">${env.name}${url ? html`<br /><a class="muted" href="${url}">${url}</a>` : ''}</th>
      ${cells}
      <td>
        ${rollbackForm(
          env.name,
          signedIn,
          env.functions.some((fn) => fn.live !== null),
        )}
      </td>
    </tr>`;
  });
  return html`${
      pending.length > 0
        ? html`<section aria-labelledby="pending-h">
            <h2 id="pending-h">Waiting</h2>
            ${pending}
          </section>`
        : ''
    }
    <section aria-labelledby="matrix-h">
      <h2 id="matrix-h">What runs where</h2>
      <p class="muted">
        Latest release:
        ${status.latestRelease ? html`<a href="/releases/${status.latestRelease}">${status.latestRelease}</a>` : 'none built yet'}
      </p>
      <div class="scroll">
        <table class="matrix">
          <caption class="visually-hidden">
            Environments by functions: live and smoke versions
          </caption>
          <thead>
            <tr>
              <th scope="col">Environment</th>
              ${functions.map((fn) => html`<th scope="col"><a href="/functions/${fn}">${fn}</a></th>`)}
              <th scope="col">Roll back</th>
            </tr>
          </thead>
          <tbody>
            ${rows}
          </tbody>
        </table>
      </div>
    </section>`;
}

/** Per instance and alias, the newest ledger entry that moved it: who, and when. */
function lastMover(moves: LedgerEntry[]): Map<string, LedgerEntry> {
  const last = new Map<string, LedgerEntry>();
  for (const entry of moves) last.set(`${entry.instance}|${entry.alias}`, entry);
  return last;
}

function aliasCell(
  live: AliasStatus | null,
  smoke: AliasStatus | null,
  previousEnv: string | undefined,
  previousRelease: string | undefined,
  by: LedgerEntry | undefined,
): Markup {
  if (!live)
    return html`<p class="muted">nothing live${smoke ? html`; smoke v${smoke.version} (${smoke.release})` : ''}</p>`;
  const differs = previousEnv !== undefined && previousRelease !== live.release;
  return html`<dl class="cell">
    <dt>live</dt>
    <dd class="live">
      <strong>v${live.version}</strong> <a href="/releases/${live.release}">${live.release}</a>${
        differs
          ? html` <span class="badge differs" title="${previousEnv} runs ${previousRelease ?? 'nothing'}"
              >differs from ${previousEnv}</span
            >`
          : ''
      }
      ${live.extra ? html`<br /><span class="badge">canary: v${live.extra.version} (${live.extra.release}) ${Math.round(live.extra.weight * 100)}%</span>` : ''}
    </dd>
    <dt>sha256</dt>
    <dd><code class="sha" title="${live.sha256}" data-copy="${live.sha256}">${live.sha256.slice(0, 12)}</code></dd>
    <dt>commit</dt>
    <dd>
      ${live.commit ? html`<code title="${live.commit}">${live.commit.slice(0, 10)}</code>` : html`<span class="muted">none</span>`}
    </dd>
    <dt>since</dt>
    <dd>${time(live.since)}${by ? html` by <span class="actor">${by.actor}</span>` : ''}</dd>
    <dt>smoke</dt>
    <dd>
      ${smoke ? html`v${smoke.version}${smoke.release !== live.release ? html` (${smoke.release})` : ''}` : html`<span class="muted">none</span>`}
    </dd>
  </dl>`;
}

function rollbackForm(env: string, signedIn: boolean, anyLive: boolean): Markup {
  if (!anyLive) return html`<span class="muted">nothing live</span>`;
  if (!signedIn) return html`<span class="muted">sign in to roll back</span>`;
  return html`<form method="post" action="/actions/rollback" class="action">
    <input type="hidden" name="env" value="${env}" />
    <label for="reason-${env}">Reason</label>
    <input id="reason-${env}" name="reason" required autocomplete="off" placeholder="why live goes back" />
    <button type="submit" class="danger" id="rollback-${env}">Roll back ${env}</button>
  </form>`;
}

async function pendingView(
  source: DashboardSource,
  status: AppStatus,
  promotion: PendingPromotion,
  signedIn: boolean,
): Promise<Markup> {
  const head = html`<h3>
      <a href="/timeline#${promotion.id}">${promotion.id}</a>: ${promotion.kind} of
      <a href="/releases/${promotion.release}">${promotion.release}</a>
    </h3>
    <p>Started by ${promotion.startedBy}; ${promotion.status} since ${time(promotion.since)}.</p>`;
  if (promotion.status !== 'awaiting-approval') {
    return html`<article class="pending" data-promotion="${promotion.id}">
      ${head}
      <p>It is not finished: its process may be gone. Resume finishes it, or rolls it back if it fails.</p>
      ${
        signedIn
          ? html`<form method="post" action="/actions/resume" class="action">
              <button type="submit" id="resume-${promotion.id}">Resume ${promotion.id}</button>
            </form>`
          : html`<p class="muted">Sign in to resume.</p>`
      }
    </article>`;
  }
  const env = promotion.environment;
  const [release, entries] = await Promise.all([
    source.release(promotion.release),
    source.ledger({ environment: env }),
  ]);
  const mine = entries.filter((entry) => entry.detail['promotion'] === promotion.id);
  // Paused at the gate, the new version is on `smoke` there: it is what approving puts on `live`.
  const onSmoke = new Map(
    status.environments
      .find((candidate) => candidate.name === env)
      ?.functions.map((fn) => [fn.function, fn.smoke?.version]) ?? [],
  );
  const smoke = mine.filter((entry) => entry.kind === 'smoke.passed' || entry.kind === 'smoke.failed');
  return html`<article class="pending" data-promotion="${promotion.id}" data-awaiting="${env}">
    ${head}
    <p><strong>Waiting for an approval in ${env}.</strong> Approving moves live in ${env} to:</p>
    <table>
      <caption class="visually-hidden">
        What goes live in ${env}
      </caption>
      <thead>
        <tr>
          <th scope="col">function</th>
          <th scope="col">version</th>
          <th scope="col">sha256</th>
        </tr>
      </thead>
      <tbody>
        ${(release?.functions ?? []).map(
          (fn) =>
            html`<tr>
              <td>${fn.function}</td>
              <td>${onSmoke.get(fn.function) !== undefined ? `v${onSmoke.get(fn.function)}` : '–'}</td>
              <td><code title="${fn.sha256}">${fn.sha256.slice(0, 12)}</code></td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h4>Smoke tests in ${env}</h4>
    ${
      smoke.length === 0
        ? html`<p class="muted">none ran</p>`
        : html`<ul class="smoke">
            ${smoke.map((entry) => {
              const failure = Array.isArray(entry.detail['failure']) ? String(entry.detail['failure'][0] ?? '') : '';
              return html`<li class="${entry.kind === 'smoke.passed' ? 'pass' : 'fail'}">
                ${entry.kind === 'smoke.passed' ? 'passed' : 'FAILED'}: ${String(entry.detail['test'] ?? '')}
                (${String(entry.detail['durationMs'] ?? '?')} ms)${failure ? html` — ${failure}` : ''}
              </li>`;
            })}
          </ul>`
    }
    ${
      signedIn
        ? html`<form method="post" action="/actions/approve" class="action">
            <input type="hidden" name="env" value="${env}" />
            <button type="submit" class="primary" id="approve-${env}">Approve ${env}</button>
          </form>`
        : html`<p class="muted">Sign in to approve.</p>`
    }
  </article>`;
}
