/**
 * What script adds to the server-rendered pages: live updates from the change feed (the page
 * re-reads itself, keeping focus and what was typed), copy buttons for sha256s, and the chart.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';

const COLOURS = ['#1f5fbf', '#b3471d', '#2f7d32', '#7b3fa0', '#8a6d00'];

function enhance(root: ParentNode): void {
  for (const code of root.querySelectorAll<HTMLElement>('code[data-copy]')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', `Copy sha256 ${code.dataset['copy'] ?? ''}`);
    button.addEventListener('click', () => {
      void navigator.clipboard?.writeText(code.dataset['copy'] ?? '').then(() => {
        button.textContent = 'Copied';
      });
    });
    code.after(' ', button);
  }
  drawCharts(root);
}

interface Metrics {
  minutes: number[];
  versions: { version: string; requests: number[]; p50: (number | null)[]; p99: (number | null)[] }[];
}

function drawCharts(root: ParentNode): void {
  for (const holder of root.querySelectorAll<HTMLElement>('[data-chart]')) {
    const island = document.getElementById(holder.dataset['chart'] ?? '');
    if (!island?.textContent) continue;
    const metrics = JSON.parse(island.textContent) as Metrics;
    const series: uPlot.Series[] = [{}];
    const data: uPlot.AlignedData = [metrics.minutes];
    metrics.versions.forEach((version, index) => {
      const stroke = COLOURS[index % COLOURS.length] ?? '#333';
      series.push({
        label: `v${version.version} requests`,
        stroke,
        scale: 'n',
        width: 1,
        dash: [4, 4],
        paths: uPlot.paths.stepped?.({ align: 1 }),
      });
      series.push({ label: `v${version.version} p50 ms`, stroke, scale: 'ms', width: 2 });
      series.push({ label: `v${version.version} p99 ms`, stroke, scale: 'ms', width: 1 });
      data.push(version.requests, version.p50, version.p99);
    });
    holder.textContent = '';
    new uPlot(
      {
        width: Math.min(holder.clientWidth || 720, 900),
        height: 260,
        series,
        legend: { live: false },
        scales: { n: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { scale: 'ms', label: 'ms' }, { scale: 'n', side: 1, label: 'requests', grid: { show: false } }],
      },
      data,
      holder,
    );
  }
}

/** Re-reads this page and swaps its main content, keeping the focused control and typed values. */
async function refresh(mark: string): Promise<void> {
  const response = await fetch(location.href, { headers: { accept: 'text/html' }, cache: 'no-store' });
  if (!response.ok) return;
  const next = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main');
  const main = document.querySelector('main');
  if (!next || !main) return;
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.id : '';
  const typed = new Map(
    [...main.querySelectorAll<HTMLInputElement>('input[id]:not([type=hidden])')].map((input) => [
      input.id,
      input.value,
    ]),
  );
  const notice = main.querySelector('.notice');
  main.replaceChildren(...next.childNodes);
  // The notice of the action just taken stays until the next one.
  const newNotice = main.querySelector('.notice');
  if (notice && newNotice && !notice.hasAttribute('hidden')) newNotice.replaceWith(notice);
  for (const [id, value] of typed) {
    const input = document.getElementById(id);
    if (input instanceof HTMLInputElement) input.value = value;
  }
  if (focused) document.getElementById(focused)?.focus();
  enhance(main);
  document.body.dataset['mark'] = mark;
  document.dispatchEvent(new CustomEvent('stagecraft:updated', { detail: mark }));
}

function listen(): void {
  const status = document.querySelector('[data-feed]');
  const events = new EventSource('/events');
  let queue = Promise.resolve();
  events.addEventListener('ready', (event) => {
    document.body.dataset['mark'] = (event as MessageEvent<string>).data;
    if (status) status.textContent = 'Live: changes appear as they are recorded.';
  });
  events.addEventListener('change', (event) => {
    const mark = (event as MessageEvent<string>).data;
    queue = queue.then(() => refresh(mark)).catch(() => undefined);
  });
  events.addEventListener('error', () => {
    if (status) status.textContent = 'Live updates paused: reconnecting…';
  });
}

enhance(document);
listen();
