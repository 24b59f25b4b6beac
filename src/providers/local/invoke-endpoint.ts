/**
 * An endpoint for one invocation outside `up` (`stagecraft invoke`, smoke tests of a promotion):
 * the handler's SQS, SNS and Lambda calls reach its environment's queues, topics and aliases just
 * as under `up`. What it queues waits durably in the state database for `up`'s pollers.
 */
import { aliasName, instanceName, type AliasRole, type Manifest } from '../../manifest/index.js';
import type { InvokeOutcome } from '../../runtime/index.js';
import type { StateStore } from '../../state/index.js';

export interface InvokeEndpointOptions {
  manifest: Manifest;
  env: string;
  store: StateStore;
  account: string;
  invoke: (instance: string, qualifier: string, payload: string) => Promise<InvokeOutcome>;
}

/** Runs `work` with the variables of a fresh endpoint of `env`, and stops the endpoint after it. */
export async function withInvokeEndpoint<T>(
  options: InvokeEndpointOptions,
  work: (variables: Record<string, string>) => Promise<T>,
): Promise<T> {
  const { manifest, env, store } = options;
  const [{ EnvironmentEndpoint }, { EnvironmentEvents }] = await Promise.all([
    import('./endpoints/index.js'),
    import('./events/index.js'),
  ]);
  const qualifier = (target: AliasRole | number) =>
    typeof target === 'number' ? String(target) : aliasName(manifest, env, target);
  const invokeAlias = (fn: string, target: AliasRole | number, payload: string) =>
    options.invoke(instanceName(manifest, fn, env), qualifier(target), payload);
  // Not started: it only writes (messages, fan-outs, asynchronous events) for `up` to run.
  const events = new EnvironmentEvents({
    manifest,
    env,
    store,
    account: options.account,
    invoke: (fn, payload) => invokeAlias(fn, 'live', payload),
  });
  const endpoint = new EnvironmentEndpoint({
    manifest,
    env,
    region: manifest.region,
    account: options.account,
    queues: store.queues,
    events: () => events,
    invoke: invokeAlias,
    isDeployed: (fn, target) =>
      typeof target === 'number'
        ? store.control.getVersion(instanceName(manifest, fn, env), target) !== undefined
        : store.control.getAlias(instanceName(manifest, fn, env), aliasName(manifest, env, target)) !== undefined,
  });
  await endpoint.start();
  try {
    return await work(endpoint.variables());
  } finally {
    await endpoint.stop();
  }
}
