/**
 * `doctor` on AWS, the stacks: each environment's stack exists once Stagecraft deployed there,
 * still holds the template Stagecraft gave it, and that template is the one the release running
 * there synthesises.
 *
 * The `stagecraft:template` tag says what Stagecraft applied, but a stack updated from the
 * console or the CLI keeps its tags: only the template CloudFormation actually holds
 * (GetTemplate) tells whether someone changed it since.
 */
import type { Manifest } from '../../manifest/index.js';
import type { AuditedEnvironment, PlatformAudit } from '../platform-audit.js';
import { stackName } from './aws-names.js';
import type { AwsClients } from './clients.js';
import { isUsable, TEMPLATE_TAG, type StackDeployer } from './stack.js';
import { synthesize, templateDigest, type StackManifest } from './template.js';

export interface AuditDeps {
  clients: AwsClients;
  /** The app's manifest: the environments, and the stack names. */
  manifest: Manifest;
  stacks: StackDeployer;
}

export async function auditStacks(deps: AuditDeps, environments: AuditedEnvironment[]): Promise<PlatformAudit> {
  const failures: string[] = [];
  const warnings: string[] = [];
  const held: string[] = [];
  for (const [name, envs] of byStack(deps.manifest, environments)) {
    const first = envs[0]?.name ?? '';
    const state = await deps.stacks.describe(name);
    if (!state) {
      const deployed = envs.filter((env) => env.deployed).map((env) => env.name);
      if (deployed.length > 0) {
        failures.push(
          `${name} does not exist, yet ${deployed.join(', ')} was deployed there: its queues, tables and API are gone; \`stagecraft deploy ${deployed[0]}\` creates it again`,
        );
      }
      continue;
    }
    held.push(name);
    if (state.status.endsWith('_IN_PROGRESS')) {
      warnings.push(`${name} is ${state.status}: an operation is under way on it; run doctor again when it ends`);
      continue;
    }
    if (!isUsable(state.status)) {
      failures.push(
        `${name} is ${state.status}: look at its events in the CloudFormation console, then \`stagecraft deploy ${first}\``,
      );
      continue;
    }
    const actual = await deps.stacks.heldDigest(name);
    if (state.digest === undefined || actual !== state.digest) {
      const applied =
        state.digest === undefined ? `it has no ${TEMPLATE_TAG} tag` : `Stagecraft applied ${short(state.digest)}`;
      failures.push(
        `${name}: its template was changed outside Stagecraft (it holds ${short(actual)}, ${applied}); \`stagecraft deploy ${first}\` puts Stagecraft's back`,
      );
      continue;
    }
    const expected = expectedTemplates(deps.manifest, envs);
    if (!expected.has(actual)) {
      warnings.push(
        `${name} holds template ${short(actual)}, which is not the one the release(s) running there synthesise (${[...expected].map(short).join(', ')}); the next deploy applies it`,
      );
    }
  }
  return {
    name: 'stack',
    failures,
    warnings,
    ok:
      held.length === 0
        ? 'no stack deployed yet'
        : `${held.length} stack(s) hold the template Stagecraft applied (${held.join(', ')})`,
    failed: 'stacks are missing or were changed outside Stagecraft',
    warned: 'stacks need attention',
  };
}

/** The environments of each stack: one each in multi-stack, all of them in one stack in single-stack. */
function byStack(manifest: Manifest, environments: AuditedEnvironment[]): Map<string, AuditedEnvironment[]> {
  const groups = new Map<string, AuditedEnvironment[]>();
  for (const env of environments) {
    const name = stackName(manifest, env.name);
    groups.set(name, [...(groups.get(name) ?? []), env]);
  }
  return groups;
}

/**
 * The digests of the templates the stack may rightly hold: those of the releases running in its
 * environments (the stack is applied with the release's manifest at publish time), or of the
 * app's manifest when nothing runs there yet.
 */
function expectedTemplates(manifest: Manifest, envs: AuditedEnvironment[]): Set<string> {
  const releases = envs.flatMap((env) => env.releases);
  const sources = releases.length > 0 ? releases : [manifest];
  const env = envs[0]?.name ?? '';
  return new Set(sources.map((source) => templateDigest(synthesize(stackView(manifest, source), env))));
}

/** The view a stack is applied with: the release's resources and functions, the app's chain of environments. */
export function stackView(app: Manifest, release: Manifest): StackManifest {
  return {
    app: release.app,
    strategy: release.strategy,
    environments: app.environments,
    resources: release.resources,
    functions: release.functions,
  };
}

function short(digest: string): string {
  return digest.slice(0, 12);
}
