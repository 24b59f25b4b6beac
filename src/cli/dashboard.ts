/**
 * The dashboard wired to an opened app, for `up` and `dashboard`: what it reads goes through
 * the app's stores and its Provider, and each button calls the library function of its CLI
 * command with the actor the CLI would record. The promotion library loads on the first page
 * asked for, not before `up`'s gateways open.
 */
import { createDashboard, dashboardToken, type Dashboard, type DashboardSource } from '../dashboard/index.js';
import type { OpenedApp } from './app.js';
import type { Output } from './output.js';

export interface DashboardWiring {
  /** `up`: each environment's gateway URL. */
  urls?: () => { name: string; url: string }[];
  /** `up`: the document of `GET /api/status`. */
  statusDocument?: () => Promise<unknown>;
  sync?: () => void;
}

export function wireDashboard(
  app: OpenedApp,
  out: Output,
  wiring: DashboardWiring = {},
): { dashboard: Dashboard; token: string } {
  const { token } = dashboardToken(process.env);
  const lib = () => import('../promotion/index.js');
  const source: DashboardSource = {
    manifest: app.loaded.manifest,
    status: async () => (await lib()).appStatus(app),
    ledger: async (query) => (app.sharedLedger ? app.sharedLedger.list(query) : app.store.ledger.list(query)),
    release: async (id) => {
      try {
        return app.store.releases.find(id);
      } catch {
        return (await app.sharedReleases?.())?.find((release) => release.id === id);
      }
    },
    config: async (env, release) => (await lib()).showConfig(app, env, release),
    logs: async (instance, limit) => (await app.provider.readLogs(instance, limit)).entries,
    changeMark: () => app.changeMark(),
    ...(wiring.urls ? { urls: wiring.urls } : {}),
  };
  // What a button changed reaches the shared state at once, as when a CLI command ends, and
  // `up`'s gateways (which read this process's own commits only when told to).
  const flushed = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } finally {
      wiring.sync?.();
      await app.flush();
    }
  };
  const dashboard = createDashboard({
    source,
    token,
    warn: (message) => out.warn(message),
    // Shared state is read from DynamoDB: fewer reads, still well within the second.
    pollMs: app.sharedLedger ? 400 : 200,
    actions: {
      actor: () => app.actor,
      approve: async (env) => flushed((await lib()).approve(app, env, app.actor)),
      rollback: async (env, reason) => flushed((await lib()).rollback(app, env, reason ? { reason } : {})),
      resume: async () => flushed((await lib()).promote(app, { resume: true })),
    },
    ...(wiring.statusDocument ? { statusDocument: wiring.statusDocument } : {}),
    ...(wiring.sync ? { sync: wiring.sync } : {}),
  });
  return { dashboard, token };
}

export function loginLink(base: string, token: string): string {
  return `${base}/login?token=${token}`;
}
