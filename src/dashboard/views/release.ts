/**
 * One release: its artifacts (sha256, size), commit and dirty flag, who built it, where it is
 * live now and where it was, and the config it gets in each environment, secrets masked.
 */
import type { Release } from '../../state/index.js';
import { html, time, type Markup } from '../html.js';
import type { DashboardSource } from '../source.js';

export async function releaseView(source: DashboardSource, release: Release): Promise<Markup> {
  const [status, moves] = await Promise.all([source.status(), source.ledger({ kind: 'alias.moved' })]);
  const liveNow = status.environments.flatMap((env) =>
    env.functions
      .filter((fn) => fn.live?.release === release.id)
      .map((fn) => ({ env: env.name, fn: fn.function, version: fn.live?.version })),
  );
  const was = moves.filter(
    (entry) => entry.releaseId === release.id && entry.alias !== null && !entry.alias.endsWith('smoke'),
  );
  const envs = release.manifest.environments.map((env) => env.name);
  return html`<dl class="facts">
      <dt>commit</dt>
      <dd>
        ${release.commit ? html`<code>${release.commit}</code>` : 'none (not a git checkout)'}${release.dirty ? html` <span class="badge differs">dirty: uncommitted changes</span>` : ''}
      </dd>
      <dt>built</dt>
      <dd>${time(release.createdAt)} by ${release.createdBy}</dd>
      <dt>digest</dt>
      <dd><code>${release.digest}</code></dd>
    </dl>
    <h2>Artifacts</h2>
    <table>
      <caption class="visually-hidden">
        Artifacts of ${release.id}
      </caption>
      <thead>
        <tr>
          <th scope="col">function</th>
          <th scope="col">sha256</th>
          <th scope="col">size</th>
          <th scope="col">runtime</th>
        </tr>
      </thead>
      <tbody>
        ${release.functions.map(
          (fn) =>
            html`<tr>
              <td><a href="/functions/${fn.function}">${fn.function}</a></td>
              <td><code class="sha" data-copy="${fn.sha256}">${fn.sha256}</code></td>
              <td>${formatSize(fn.size)}</td>
              <td>${fn.runtime}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h2>Live now</h2>
    ${
      liveNow.length === 0
        ? html`<p>Not live anywhere.</p>`
        : html`<ul>
            ${liveNow.map((item) => html`<li>${item.env}: ${item.fn} v${item.version}</li>`)}
          </ul>`
    }
    <h2>Where it went live</h2>
    ${
      was.length === 0
        ? html`<p>Never moved to live.</p>`
        : html`<ul>
            ${was.map(
              (entry) =>
                html`<li>
                  ${time(entry.at)} ${entry.environment}/${entry.function} v${entry.version} (${entry.operation},
                  ${entry.actor})
                </li>`,
            )}
          </ul>`
    }
    <h2>Config per environment</h2>
    ${await Promise.all(envs.map((env) => configView(source, env, release.id)))}`;
}

async function configView(source: DashboardSource, env: string, release: string): Promise<Markup> {
  let view;
  try {
    view = await source.config(env, release);
  } catch (error) {
    return html`<h3>${env}</h3>
      <p class="problem">${(error as Error).message}</p>`;
  }
  return html`<h3>${env}</h3>
    ${view.functions.map(
      (fn) =>
        html`<table class="config">
          <caption>
            ${fn.function} in ${env}
          </caption>
          <thead>
            <tr>
              <th scope="col">key</th>
              <th scope="col">value</th>
              <th scope="col">from</th>
            </tr>
          </thead>
          <tbody>
            ${fn.entries.map(
              (entry) =>
                html`<tr>
                  <td><code>${entry.key}</code></td>
                  <td>
                    ${
                      entry.value === undefined
                        ? html`<span class="problem">missing ${entry.missing.join(', ')}</span>`
                        : html`<code>${entry.value}</code>`
                    }${entry.secret ? html` <span class="badge">secret</span>` : ''}
                  </td>
                  <td>${entry.source.layer === 'stagecraft' ? 'provided by stagecraft' : entry.source.path}</td>
                </tr>`,
            )}
          </tbody>
        </table>`,
    )}`;
}

function formatSize(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 * 1024
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
