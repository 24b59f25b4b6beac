/**
 * Server-sent events fed by the state's change mark: polled while a page listens, and a
 * `change` event to every page when it moves, so that what any CLI process records shows up
 * without a reload (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 */
import type { ServerResponse } from 'node:http';

export class ChangeFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private beats = 0;

  constructor(
    private readonly mark: () => Promise<string>,
    private readonly intervalMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  async subscribe(response: ServerResponse): Promise<void> {
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    this.last ??= await this.mark().catch(() => '');
    // `retry`: a page whose server restarted reconnects within a second.
    response.write(`retry: 1000\nevent: ready\ndata: ${this.last}\n\n`);
    this.clients.add(response);
    response.on('close', () => {
      this.clients.delete(response);
      if (this.clients.size === 0) this.stop();
    });
    this.timer ??= setTimeout(() => void this.poll(), this.intervalMs);
  }

  close(): void {
    this.stop();
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    try {
      const mark = await this.mark();
      if (mark !== this.last) {
        this.last = mark;
        for (const client of this.clients) client.write(`event: change\ndata: ${mark}\n\n`);
      } else if (++this.beats * this.intervalMs >= 15_000) {
        this.beats = 0;
        // A comment line keeps proxies and idle timers from closing a quiet stream.
        for (const client of this.clients) client.write(': beat\n\n');
      }
    } catch (error) {
      this.warn(`dashboard: cannot read the change mark: ${(error as Error).message}`);
    }
    if (this.clients.size > 0) this.timer = setTimeout(() => void this.poll(), this.intervalMs);
    else this.timer = undefined;
  }
}
