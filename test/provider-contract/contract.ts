/**
 * The provider contract: what every Provider must do the same way, run against each one
 * (DESIGN §7: one small interface, one shared suite). A provider under test gets a real state
 * store and artifact store, two real artifacts of an echo handler, and one environment whose
 * stack it has ensured; the suite then publishes, moves aliases, splits traffic, invokes and
 * rolls back through the interface only, and checks the ledger that the changes wrote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore, deterministicZip } from '../../src/release/index.js';
import { isStagecraftError } from '../../src/errors.js';
import { parseManifest, type Manifest } from '../../src/manifest/index.js';
import type { MessageOptions, Provider } from '../../src/providers/index.js';
import { StateStore, type ChangeMeta, type NewVersion } from '../../src/state/index.js';

export const CONTRACT_MANIFEST = `
app: contract
provider: local
environments:
  - name: dev
functions:
  echo:
    handler: index.handler
`;

export interface ContractWorld {
  dir: string;
  store: StateStore;
  artifacts: ArtifactStore;
  manifest: Manifest;
}

export interface ContractSubject {
  provider: Provider;
  close(): Promise<void>;
}

/** Makes the provider under test over the world's stores. */
export type ContractFactory = (world: ContractWorld) => Promise<ContractSubject>;

const INSTANCE = 'contract-echo-dev';
const change = (operation: string): ChangeMeta => ({
  operation,
  actor: 'contract',
  environment: 'dev',
  function: 'echo',
  detail: {},
});

async function expectRefusal(work: Promise<unknown>, code: string): Promise<void> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isStagecraftError(error) ? error.code : error).toBe(code);
}

export function providerContract(name: string, factory: ContractFactory, options: { timeoutMs?: number } = {}): void {
  describe(`provider contract: ${name}`, { timeout: options.timeoutMs ?? 30_000 }, () => {
    let world: ContractWorld;
    let subject: ContractSubject;
    let provider: Provider;
    const spec: Record<'one' | 'two', NewVersion> = {} as Record<'one' | 'two', NewVersion>;

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stagecraft-contract-'));
      const store = StateStore.open(join(dir, 'state.db'));
      const artifacts = new ArtifactStore({ artifactsDir: join(dir, 'artifacts'), codeDir: join(dir, 'code') });
      const manifest = (await parseManifest(CONTRACT_MANIFEST, { file: join(dir, 'stagecraft.yml') })).manifest;
      world = { dir, store, artifacts, manifest };
      // Two artifacts of the same echo handler, differing in one comment, so in their sha256.
      for (const [key, mark] of [
        ['one', 'one'],
        ['two', 'two'],
      ] as const) {
        const zip = deterministicZip([
          { path: 'index.mjs', data: Buffer.from(`// ${mark}\nexport const handler = async (event) => event;\n`) },
        ]);
        const stored = artifacts.put(zip);
        const { release } = store.transaction(() =>
          store.releases.record(
            {
              digest: stored.sha256,
              manifestDigest: 'contract',
              manifest,
              commit: null,
              dirty: false,
              functions: [
                {
                  function: 'echo',
                  sha256: stored.sha256,
                  size: stored.size,
                  runtime: 'nodejs22.x',
                  handler: 'index.handler',
                },
              ],
            },
            'contract',
          ),
        );
        spec[key] = {
          instance: INSTANCE,
          environment: 'dev',
          function: 'echo',
          releaseId: release.id,
          sha256: stored.sha256,
          runtime: 'nodejs22.x',
          handler: 'index.handler',
          memoryMb: 128,
          timeoutSec: 3,
          config: { STAGECRAFT_RELEASE: release.id },
          configDigest: `config-${key}`,
        };
      }
      subject = await factory(world);
      provider = subject.provider;
      await provider.ensureStack(
        {
          app: 'contract',
          environment: 'dev',
          strategy: 'multi-stack',
          resources: manifest.resources,
          functions: [{ function: 'echo', instance: INSTANCE }],
        },
        change('deploy'),
      );
    }, 120_000);

    afterAll(async () => {
      await subject?.close();
      world?.store.close();
      if (world) rmSync(world.dir, { recursive: true, force: true });
    });

    it('publishes versions; the same code and config again returns the newest version', async () => {
      const first = await provider.publishVersion(spec.one, change('deploy'));
      expect(first.created).toBe(true);
      expect(first.version).toMatchObject({
        instance: INSTANCE,
        version: 1,
        sha256: spec.one.sha256,
        releaseId: spec.one.releaseId,
      });
      const again = await provider.publishVersion(spec.one, change('deploy'));
      expect(again).toMatchObject({ created: false, version: { version: 1, sha256: spec.one.sha256 } });
      const reconfigured = await provider.publishVersion(
        { ...spec.one, config: { ...spec.one.config, EXTRA: 'yes' }, configDigest: 'config-one-extra' },
        change('deploy'),
      );
      expect(reconfigured).toMatchObject({
        created: true,
        version: { version: 2, sha256: spec.one.sha256, config: { EXTRA: 'yes' } },
      });
      const recoded = await provider.publishVersion(spec.two, change('deploy'));
      expect(recoded).toMatchObject({
        created: true,
        version: { version: 3, sha256: spec.two.sha256, releaseId: spec.two.releaseId },
      });
    });

    it('lists the published versions, oldest first, with their release and artifact', async () => {
      const versions = await provider.listVersions(INSTANCE);
      expect(versions.map((version) => [version.version, version.releaseId, version.sha256])).toEqual([
        [1, spec.one.releaseId, spec.one.sha256],
        [2, spec.one.releaseId, spec.one.sha256],
        [3, spec.two.releaseId, spec.two.sha256],
      ]);
      expect(await provider.listVersions('contract-nothing-dev')).toEqual([]);
    });

    it('creates and moves an alias, counting revisions', async () => {
      expect(await provider.getAlias(INSTANCE, 'live')).toBeUndefined();
      const created = await provider.updateAlias({ instance: INSTANCE, name: 'live', version: 1 }, change('deploy'));
      expect(created).toMatchObject({ instance: INSTANCE, name: 'live', version: 1, extra: undefined, revision: 1 });
      expect(await provider.getAlias(INSTANCE, 'live')).toMatchObject({ version: 1, revision: 1, extra: undefined });
      const moved = await provider.updateAlias(
        { instance: INSTANCE, name: 'live', version: 3, expectedRevision: 1 },
        change('deploy'),
      );
      expect(moved).toMatchObject({ version: 3, revision: 2 });
      const smoke = await provider.updateAlias({ instance: INSTANCE, name: 'smoke', version: 3 }, change('deploy'));
      expect(smoke).toMatchObject({ name: 'smoke', version: 3, revision: 1 });
      expect(await provider.getAlias(INSTANCE, 'live')).toMatchObject({ version: 3, revision: 2 });
    });

    it('refuses a move when the alias changed since it was read, and changes nothing', async () => {
      await expectRefusal(
        provider.updateAlias({ instance: INSTANCE, name: 'live', version: 1, expectedRevision: 1 }, change('deploy')),
        'STATE_FAILED',
      );
      await expectRefusal(
        provider.updateAlias({ instance: INSTANCE, name: 'canary', version: 1, expectedRevision: 4 }, change('deploy')),
        'STATE_FAILED',
      );
      expect(await provider.getAlias(INSTANCE, 'live')).toMatchObject({ version: 3, revision: 2 });
      expect(await provider.getAlias(INSTANCE, 'canary')).toBeUndefined();
    });

    it('refuses an alias on a version that does not exist', async () => {
      await expectRefusal(
        provider.updateAlias({ instance: INSTANCE, name: 'live', version: 99 }, change('deploy')),
        'VERSION_NOT_FOUND',
      );
      await expectRefusal(
        provider.updateAlias(
          { instance: INSTANCE, name: 'live', version: 3, extra: { version: 42, weight: 0.1 } },
          change('deploy'),
        ),
        'VERSION_NOT_FOUND',
      );
      expect(await provider.getAlias(INSTANCE, 'live')).toMatchObject({ version: 3, extra: undefined, revision: 2 });
    });

    it('splits traffic between two versions by weight, and refuses weights that are not a split', async () => {
      const split = await provider.updateAlias(
        { instance: INSTANCE, name: 'live', version: 3, extra: { version: 1, weight: 0.25 }, expectedRevision: 2 },
        change('promote'),
      );
      expect(split).toMatchObject({ version: 3, extra: { version: 1, weight: 0.25 }, revision: 3 });
      expect(await provider.getAlias(INSTANCE, 'live')).toMatchObject({
        version: 3,
        extra: { version: 1, weight: 0.25 },
        revision: 3,
      });
      for (const extra of [
        { version: 1, weight: 0 },
        { version: 1, weight: 1 },
        { version: 1, weight: 1.5 },
        { version: 3, weight: 0.5 },
      ]) {
        await expectRefusal(
          provider.updateAlias({ instance: INSTANCE, name: 'live', version: 3, extra }, change('promote')),
          'ARGUMENT_INVALID',
        );
      }
      expect(await provider.getAlias(INSTANCE, 'live')).toMatchObject({
        version: 3,
        extra: { version: 1, weight: 0.25 },
        revision: 3,
      });
      const whole = await provider.updateAlias(
        { instance: INSTANCE, name: 'live', version: 3, expectedRevision: 3 },
        change('promote'),
      );
      expect(whole).toMatchObject({ version: 3, extra: undefined, revision: 4 });
      expect((await provider.getAlias(INSTANCE, 'live'))?.extra).toBeUndefined();
    });

    it('invokes through an alias and through a version number', async () => {
      const event = { hello: 'world', n: 1 };
      for (const qualifier of ['live', 'smoke', '1']) {
        const outcome = await provider.invoke({ instance: INSTANCE, qualifier, payload: JSON.stringify(event) });
        expect(outcome.ok, qualifier).toBe(true);
        if (outcome.ok) expect(JSON.parse(outcome.payload)).toEqual(event);
        expect(outcome.requestId).toBeTruthy();
      }
      await expectRefusal(
        provider.invoke({ instance: INSTANCE, qualifier: 'nowhere', payload: '{}' }),
        'ALIAS_NOT_FOUND',
      );
    });

    it('rolls back by pointing the alias at the previous version', async () => {
      const current = await provider.getAlias(INSTANCE, 'live');
      expect(current?.version).toBe(3);
      const back = await provider.updateAlias(
        { instance: INSTANCE, name: 'live', version: 1, expectedRevision: current?.revision },
        change('rollback'),
      );
      expect(back).toMatchObject({ version: 1, revision: (current?.revision ?? 0) + 1 });
      expect(await provider.getAlias(INSTANCE, 'live')).toMatchObject({ version: 1 });
      expect(await provider.getAlias(INSTANCE, 'smoke')).toMatchObject({ version: 3 });
    });

    it('deletes an alias, and deleting a missing one is a no-op', async () => {
      await provider.updateAlias({ instance: INSTANCE, name: 'canary', version: 1 }, change('deploy'));
      await provider.deleteAlias(INSTANCE, 'canary', change('rollback'));
      expect(await provider.getAlias(INSTANCE, 'canary')).toBeUndefined();
      await provider.deleteAlias(INSTANCE, 'canary', change('rollback'));
      const again = await provider.updateAlias({ instance: INSTANCE, name: 'canary', version: 3 }, change('deploy'));
      expect(again).toMatchObject({ version: 3, revision: 1 });
      await provider.deleteAlias(INSTANCE, 'canary', change('rollback'));
    });

    it('refuses a message SQS would refuse before sending anything', async () => {
      const refused: [string, MessageOptions][] = [
        ['', {}],
        ['x', { delayMs: 901_000 }],
        ['x', { attributes: { n: { DataType: 'Number', StringValue: 'x' } } }],
        ['x', { attributes: { 'AWS.x': { DataType: 'String', StringValue: 'y' } } }],
      ];
      for (const [body, options] of refused)
        await expectRefusal(provider.sendMessage('contract-jobs-dev', body, options), 'ARGUMENT_INVALID');
    });

    it('reads an instance that never logged as empty, and a stopped follow returns', async () => {
      const tail = await provider.readLogs('contract-nothing-dev', 10);
      expect(tail).toMatchObject({ entries: [], empty: true });
      const stopped = new AbortController();
      stopped.abort();
      await tail.follow(() => {
        throw new Error('nothing was logged');
      }, stopped.signal);
    });

    it('wrote a ledger record for every change, and none for refused ones', () => {
      const entries = world.store.ledger.list({ function: 'echo' });
      expect(entries.filter((entry) => entry.kind === 'version.published').map((entry) => entry.version)).toEqual([
        1, 2, 3,
      ]);
      const moves = entries
        .filter((entry) => entry.kind === 'alias.moved')
        .map((entry) => [entry.operation, entry.alias, entry.previousVersion, entry.version]);
      expect(moves).toEqual([
        ['deploy', 'live', null, 1],
        ['deploy', 'live', 1, 3],
        ['deploy', 'smoke', null, 3],
        ['promote', 'live', 3, 3],
        ['promote', 'live', 3, 3],
        ['rollback', 'live', 3, 1],
        ['deploy', 'canary', null, 1],
        ['deploy', 'canary', null, 3],
      ]);
      expect(
        entries.filter((entry) => entry.kind === 'alias.deleted').map((entry) => [entry.alias, entry.previousVersion]),
      ).toEqual([
        ['canary', 1],
        ['canary', 3],
      ]);
    });

    it('deletes a version no alias points at (prune), recorded; deleting a missing one is a no-op', async () => {
      await provider.deleteVersion(INSTANCE, 2, change('prune'));
      expect((await provider.listVersions(INSTANCE)).map((version) => version.version)).toEqual([1, 3]);
      await provider.deleteVersion(INSTANCE, 2, change('prune'));
      const deleted = world.store.ledger.list({ kind: 'version.deleted' });
      expect(deleted.map((entry) => [entry.operation, entry.instance, entry.version, entry.releaseId])).toEqual([
        ['prune', INSTANCE, 2, spec.one.releaseId],
      ]);
    });

    it('destroys an environment: its aliases, versions and function go, and a second destroy is a no-op', async () => {
      const stack = {
        app: 'contract',
        environment: 'dev',
        strategy: 'multi-stack' as const,
        resources: world.manifest.resources,
        functions: [{ function: 'echo', instance: INSTANCE }],
      };
      await provider.destroyEnvironment(stack, change('destroy'));
      expect(await provider.getAlias(INSTANCE, 'live')).toBeUndefined();
      expect(await provider.getAlias(INSTANCE, 'smoke')).toBeUndefined();
      expect(await provider.listVersions(INSTANCE)).toEqual([]);
      await provider.destroyEnvironment(stack, change('destroy'));
      const destroyed = world.store.ledger.list({ function: 'echo' }).filter((entry) => entry.operation === 'destroy');
      expect(
        destroyed
          .filter((entry) => entry.kind === 'alias.deleted')
          .map((entry) => entry.alias)
          .sort(),
      ).toEqual(['live', 'smoke']);
    });
  });
}
