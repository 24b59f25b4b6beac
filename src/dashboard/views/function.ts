/**
 * One function in one environment: per version requests, errors, p50 and p99 over the last
 * minutes (a table, and a uPlot chart drawn from the same numbers when script runs), and the
 * recent invocations with their log lines.
 */
import { instanceName } from '../../manifest/index.js';
import { html, jsonIsland, time, type Markup } from '../html.js';
import { invocationsOf, metricsOf, percentile } from '../invocations.js';
import type { DashboardSource } from '../source.js';

const SPAN_MINUTES = 15;

export async function functionView(source: DashboardSource, fn: string, env: string, now: Date): Promise<Markup> {
  const instance = instanceName(source.manifest, fn, env);
  const invocations = invocationsOf(await source.logs(instance, 2000));
  const metrics = metricsOf(invocations, now, SPAN_MINUTES);
  const recent = invocations.slice(-25).reverse();
  const envs = source.manifest.environments.map((candidate) => candidate.name);
  const windowStart = (metrics.minutes[0] ?? 0) * 1000;
  const inWindow = invocations.filter((invocation) => Date.parse(invocation.time) >= windowStart);
  const summary = metrics.versions.map((series) => {
    const durations = inWindow
      .filter((invocation) => invocation.version === series.version)
      .map((invocation) => invocation.durationMs)
      .sort((a, b) => a - b);
    const errors = series.errors.reduce((sum, count) => sum + count, 0);
    return html`<tr>
      <th scope="row">v${series.version}</th>
      <td>${durations.length}</td>
      <td>${errors}</td>
      <td>${ms(percentile(durations, 50))}</td>
      <td>${ms(percentile(durations, 99))}</td>
    </tr>`;
  });
  return html`<nav aria-label="Environments of ${fn}">
      <ul class="tabs">
        ${envs.map(
          (name) =>
            html`<li>
              <a href="/functions/${fn}?env=${name}" ${name === env ? html` aria-current="page"` : ''}>${name}</a>
            </li>`,
        )}
      </ul>
    </nav>
    <p class="muted">Instance <code>${instance}</code></p>
    <h2>Versions, last ${SPAN_MINUTES} minutes</h2>
    ${
      metrics.versions.length === 0
        ? html`<p>No invocations in the logs.</p>`
        : html`<table>
              <caption class="visually-hidden">
                Requests and latency per version
              </caption>
              <thead>
                <tr>
                  <th scope="col">version</th>
                  <th scope="col">requests</th>
                  <th scope="col">errors</th>
                  <th scope="col">p50</th>
                  <th scope="col">p99</th>
                </tr>
              </thead>
              <tbody>
                ${summary}
              </tbody>
            </table>
            <figure class="chart">
              <div
                data-chart="metrics"
                role="img"
                aria-label="Requests and p50/p99 latency per version and minute (the table above holds the numbers)"
              ></div>
              <script type="application/json" id="metrics">
                ${jsonIsland(metrics)}
              </script>
              <figcaption class="muted">
                Per minute: requests (dashed steps, right axis) and p50 / p99 in ms (left axis), one colour per version.
              </figcaption>
            </figure>`
    }
    <h2>Recent invocations</h2>
    ${
      recent.length === 0
        ? html`<p>
            None logged${source.manifest.provider === 'aws' ? ' (CloudWatch Logs holds none for this function)' : ''}.
          </p>`
        : html`<table class="invocations">
            <caption class="visually-hidden">
              The newest invocations
            </caption>
            <thead>
              <tr>
                <th scope="col">time</th>
                <th scope="col">request id</th>
                <th scope="col">version</th>
                <th scope="col">duration</th>
                <th scope="col">status</th>
                <th scope="col">start</th>
                <th scope="col">log lines</th>
              </tr>
            </thead>
            <tbody>
              ${recent.map(
                (invocation) =>
                  html`<tr>
                    <td>${time(invocation.time)}</td>
                    <td><code>${invocation.requestId}</code></td>
                    <td>v${invocation.version}</td>
                    <td>${ms(invocation.durationMs)}</td>
                    <td class="${invocation.status}">${invocation.status}</td>
                    <td>${invocation.coldStart ? 'cold' : 'warm'}</td>
                    <td>
                      ${
                        invocation.lines.length === 0
                          ? html`<span class="muted">none</span>`
                          : html`<details>
                              <summary>
                                ${invocation.lines.length} line${invocation.lines.length === 1 ? '' : 's'}
                              </summary>
                              <pre>${invocation.lines.join('\n')}</pre>
                            </details>`
                      }
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}

function ms(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(1)} ms`;
}
