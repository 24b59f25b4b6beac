/**
 * Ephemeral environments as the rest of Stagecraft sees them: the manifest with each one added
 * after the chain, a copy of its `from` environment (config, so resources and secret references)
 * under its own name, with no gate, soak or alarms of its own.
 */
import type { Manifest } from './schema.js';

export interface EphemeralRef {
  name: string;
  from: string;
}

export function withEphemeral(manifest: Manifest, ephemeral: readonly EphemeralRef[]): Manifest {
  const added = ephemeral.flatMap(({ name, from }) => {
    const source = manifest.environments.find((env) => env.name === from);
    if (!source || manifest.environments.some((env) => env.name === name)) return [];
    return [
      {
        name,
        config: source.config,
        approval: 'auto' as const,
        deployment: { type: 'allAtOnce' as const },
        alarms: [],
        hooks: {},
      },
    ];
  });
  return added.length === 0 ? manifest : { ...manifest, environments: [...manifest.environments, ...added] };
}
