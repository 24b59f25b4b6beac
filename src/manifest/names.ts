/**
 * Names of function instances and aliases, per strategy (DESIGN §1): multi-stack runs one
 * instance per environment with aliases `live` and `smoke`; single-stack shares one instance
 * across environments, told apart by aliases `<env>` and `<env>-smoke`.
 */
import { sha256Hex } from '../digest.js';

interface Naming {
  app: string;
  strategy: 'multi-stack' | 'single-stack';
}

export type AliasRole = 'live' | 'smoke';

export function instanceName(manifest: Naming, fn: string, env: string): string {
  return manifest.strategy === 'multi-stack' ? `${manifest.app}-${fn}-${env}` : `${manifest.app}-${fn}`;
}

export function aliasName(manifest: Naming, env: string, role: AliasRole): string {
  if (manifest.strategy === 'multi-stack') return role;
  return role === 'live' ? env : `${env}-smoke`;
}

export function smokeAliasName(manifest: Naming, env: string): string {
  return aliasName(manifest, env, 'smoke');
}

/**
 * A short-lived environment's name `dev-<who>-<branch>`, sanitised to [a-z0-9-] and cut to
 * `maxLength` with a short hash of the full name, so two long branches never collide.
 */
export function ephemeralEnvironmentName(who: string, branch: string, maxLength = 30): string {
  const clean = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '');
  const full = ['dev', clean(who), clean(branch)].filter(Boolean).join('-');
  if (full.length <= maxLength) return full;
  const suffix = sha256Hex(full).slice(0, 6);
  return `${full.slice(0, maxLength - suffix.length - 1).replace(/-$/, '')}-${suffix}`;
}
