/**
 * Where a smoke test reaches an environment over HTTP: the gateway the provider says serves it
 * now (local: a running `stagecraft up`'s, which has read every alias change first). Otherwise an
 * ephemeral gateway on a free loopback port that serves the release's routes and sends every
 * request to `smoke` through the provider — alive only while the tests run.
 */
import { createGateway, type RouteDef } from '../../gateway/index.js';
import { aliasName, instanceName, type Manifest } from '../../manifest/index.js';
import type { Provider } from '../../providers/index.js';

interface Closable {
  close(): Promise<void>;
}

export class SmokeGateways {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly ephemeral: Closable[] = [];

  constructor(private readonly deps: { provider: Provider }) {}

  /** The base URL of `env`'s gateway (with its stage prefix in single-stack), for `manifest`'s routes. */
  url(manifest: Manifest, env: string): Promise<string> {
    let url = this.urls.get(env);
    if (!url) {
      url = this.resolve(manifest, env);
      this.urls.set(env, url);
    }
    return url;
  }

  async close(): Promise<void> {
    await Promise.all(this.ephemeral.splice(0).map((gateway) => gateway.close()));
  }

  private async resolve(manifest: Manifest, env: string): Promise<string> {
    return (await this.deps.provider.servingGateway?.(env)) ?? this.startEphemeral(manifest, env);
  }

  private async startEphemeral(manifest: Manifest, env: string): Promise<string> {
    const routes: RouteDef[] = [];
    for (const [fn, def] of Object.entries(manifest.functions)) {
      for (const event of def.events)
        if (event.type === 'http')
          routes.push({ method: event.method, path: event.path, payload: event.payload, function: fn });
    }
    const stages = [{ name: env, prefix: '', routes }];
    const gateway = createGateway({
      stages: () => stages,
      region: manifest.region,
      invoke: (call) =>
        this.deps.provider.invoke({
          instance: instanceName(manifest, call.function, env),
          qualifier: aliasName(manifest, env, 'smoke'),
          payload: call.payload,
        }),
    });
    const port = await gateway.listen(0, '127.0.0.1');
    this.ephemeral.push(gateway);
    return `http://127.0.0.1:${port}`;
  }
}
