/**
 * The promotion timeline: the ledger grouped by promotion (environments passed, smoke results,
 * gates, approvals, how it ended), rollbacks with their reasons, newest first; filtered by
 * environment and function through the query string, so a view is a link.
 */
import { describeEntry } from '../../promotion/index.js';
import type { LedgerEntry } from '../../state/index.js';
import { html, time, type Markup } from '../html.js';
import type { DashboardSource } from '../source.js';

export interface TimelineGroup {
  /** The promotion's id (`p3`), or `rollback-<seq>` / `e<seq>` for changes outside a promotion. */
  id: string;
  kind: 'promotion' | 'rollback' | 'change';
  entries: LedgerEntry[];
}

export interface TimelineFilter {
  env?: string;
  function?: string;
}

const ENDINGS: Record<string, string> = {
  'promotion.succeeded': 'succeeded',
  'promotion.failed': 'failed and rolled back',
  'promotion.refused': 'refused',
  'promotion.superseded': 'superseded',
  'promotion.paused': 'waiting for an approval',
  'promotion.approved': 'approved, continuing',
};

/** Groups ledger entries (oldest first) into the timeline's items, newest first. */
export function timelineGroups(entries: LedgerEntry[]): TimelineGroup[] {
  const groups: TimelineGroup[] = [];
  const byPromotion = new Map<string, TimelineGroup>();
  for (const entry of entries) {
    const promotion = typeof entry.detail['promotion'] === 'string' ? entry.detail['promotion'] : undefined;
    if (promotion) {
      let group = byPromotion.get(promotion);
      if (!group) byPromotion.set(promotion, (group = { id: promotion, kind: 'promotion', entries: [] }));
      if (!groups.includes(group)) groups.push(group);
      group.entries.push(entry);
      continue;
    }
    const last = groups[groups.length - 1];
    const previous = last?.entries[last.entries.length - 1];
    if (
      entry.operation === 'rollback' &&
      last?.kind === 'rollback' &&
      previous &&
      previous.environment === entry.environment &&
      previous.actor === entry.actor &&
      previous.detail['reason'] === entry.detail['reason']
    ) {
      last.entries.push(entry);
      continue;
    }
    groups.push({
      id: `${entry.operation === 'rollback' ? 'rollback-' : 'e'}${entry.seq}`,
      kind: entry.operation === 'rollback' ? 'rollback' : 'change',
      entries: [entry],
    });
  }
  return groups.reverse();
}

function matches(group: TimelineGroup, filter: TimelineFilter): boolean {
  return group.entries.some(
    (entry) =>
      (filter.env === undefined || entry.environment === filter.env) &&
      (filter.function === undefined || entry.function === filter.function),
  );
}

export async function timelineView(source: DashboardSource, filter: TimelineFilter): Promise<Markup> {
  const groups = timelineGroups(await source.ledger({ limit: 2000 })).filter((group) => matches(group, filter));
  const envs = source.manifest.environments.map((env) => env.name);
  const functions = Object.keys(source.manifest.functions);
  const option = (value: string, selected: string | undefined) =>
    html`<option value="${value}" ${value === (selected ?? '') ? html` selected` : ''}>${value || 'all'}</option>`;
  const query = new URLSearchParams({
    ...(filter.env ? { env: filter.env } : {}),
    ...(filter.function ? { function: filter.function } : {}),
  }).toString();
  return html`<form method="get" action="/timeline" class="filter" aria-label="Filter the timeline">
      <label for="f-env">Environment</label
      ><select id="f-env" name="env">
        ${['', ...envs].map((env) => option(env, filter.env))}
      </select>
      <label for="f-fn">Function</label
      ><select id="f-fn" name="function">
        ${['', ...functions].map((fn) => option(fn, filter.function))}
      </select>
      <button type="submit">Filter</button>${query ? html` <a href="/timeline">Show all</a>` : ''}
    </form>
    ${
      groups.length === 0
        ? html`<p>Nothing recorded${query ? ' for this filter' : ''} yet.</p>`
        : html`<ol class="timeline">
            ${groups.map((group) => groupView(group, query))}
          </ol>`
    }`;
}

function groupView(group: TimelineGroup, query: string): Markup {
  const first = group.entries[0] as LedgerEntry;
  const link = html`<a href="/timeline${query ? `?${query}` : ''}#${group.id}">${group.id}</a>`;
  if (group.kind === 'promotion') {
    const ending = [...group.entries].reverse().find((entry) => entry.kind in ENDINGS);
    const state = ending ? (ENDINGS[ending.kind] ?? '') : 'running';
    return html`<li id="${group.id}" class="promotion ${state.split(' ')[0]}">
      <h2>
        ${link}: ${first.operation} of
        ${first.releaseId ? html`<a href="/releases/${first.releaseId}">${first.releaseId}</a>` : 'a release'} —
        ${state}
      </h2>
      <p class="muted">started ${time(first.at)} by ${first.actor}</p>
      <ol class="entries">
        ${group.entries.map(entryView)}
      </ol>
    </li>`;
  }
  if (group.kind === 'rollback') {
    const reason = typeof first.detail['reason'] === 'string' ? first.detail['reason'] : '';
    return html`<li id="${group.id}" class="rollback">
      <h2>${link}: rollback of ${first.environment ?? ''} by ${first.actor}</h2>
      <p>
        ${reason ? html`Reason: <q>${reason}</q>` : html`<span class="muted">no reason given</span>`} ·
        ${time(first.at)}
      </p>
      <ol class="entries">
        ${group.entries.map(entryView)}
      </ol>
    </li>`;
  }
  return html`<li id="${group.id}" class="change">
    <h2>${link}: ${first.kind}</h2>
    <ol class="entries">
      ${entryView(first)}
    </ol>
  </li>`;
}

function entryView(entry: LedgerEntry): Markup {
  const where = [entry.environment, entry.function].filter(Boolean).join('/');
  return html`<li class="${entry.kind.replace('.', '-')}">
    ${time(entry.at)} <span class="kind">${entry.kind}</span> ${where ? html`<span class="where">${where}</span>` : ''}
    ${describeEntry(entry)} <span class="muted">· ${entry.actor}</span>
  </li>`;
}
