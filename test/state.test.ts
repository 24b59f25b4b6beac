import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '../src/manifest/index.js';
import { StateStore, type NewVersion } from '../src/state/index.js';
import { MIGRATIONS } from '../src/state/migrations.js';

const { manifest } = await parseManifest(
  'app: a\nenvironments: [{ name: dev }]\nfunctions: { f: { handler: src/f.handler } }\n',
  { file: 'x' },
);
const SHA = 'a'.repeat(64);
const change = { operation: 'test', actor: 'tester', environment: 'dev', function: 'f' };

describe('state store', () => {
  let dir: string;
  let store: StateStore;
  let release: string;
  const version = (overrides: Partial<NewVersion> = {}): NewVersion => ({
    instance: 'a-f-dev',
    environment: 'dev',
    function: 'f',
    releaseId: release,
    sha256: SHA,
    runtime: 'nodejs22.x',
    handler: 'src/f.handler',
    memoryMb: 128,
    timeoutSec: 3,
    config: { A: '1' },
    configDigest: 'd1',
    ...overrides,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-state-'));
    store = StateStore.open(join(dir, 'state.db'));
    release = store.transaction(() =>
      store.releases.record(
        {
          digest: 'f'.repeat(64),
          manifestDigest: 'm',
          manifest,
          commit: null,
          dirty: false,
          functions: [{ function: 'f', sha256: SHA, size: 10, runtime: 'nodejs22.x', handler: 'src/f.handler' }],
        },
        'tester',
      ),
    ).release.id;
    store.transaction(() => store.control.ensureInstance('a-f-dev', 'f', 'dev', change));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('numbers releases and returns the recorded one for the same digest', () => {
    expect(release).toBe('r1-ffffffff');
    const again = store.transaction(() =>
      store.releases.record(
        { digest: 'f'.repeat(64), manifestDigest: 'm', manifest, commit: null, dirty: false, functions: [] },
        'x',
      ),
    );
    expect(again).toMatchObject({ created: false, release: { id: 'r1-ffffffff' } });
    expect(store.releases.find('r1').id).toBe(release);
    expect(store.releases.find('ffffffff').id).toBe(release);
    expect(() => store.releases.find('r9')).toThrow(/no release r9/);
  });

  it('publishes like Lambda: the same code and config returns the newest version, otherwise counts up', () => {
    const first = store.transaction(() => store.control.publish(version(), change));
    const same = store.transaction(() => store.control.publish(version(), change));
    const changed = store.transaction(() => store.control.publish(version({ configDigest: 'd2' }), change));
    const back = store.transaction(() => store.control.publish(version(), change));
    expect([first, same, changed, back].map((result) => [result.version.version, result.created])).toEqual([
      [1, true],
      [1, false],
      [2, true],
      [3, true],
    ]);
  });

  it('refuses to change a version, an artifact, a release or a ledger record (the database enforces it)', () => {
    store.transaction(() => store.control.publish(version(), change));
    store.close();
    const db = new Database(join(dir, 'state.db'));
    expect(() => db.prepare("UPDATE versions SET sha256 = 'x'").run()).toThrow(/versions are immutable/);
    expect(() => db.prepare('DELETE FROM versions').run()).toThrow(/versions are immutable/);
    expect(() => db.prepare('UPDATE artifacts SET size = 1').run()).toThrow(/artifacts are immutable/);
    expect(() => db.prepare("UPDATE releases SET commit_sha = 'x'").run()).toThrow(/releases are immutable/);
    expect(() => db.prepare("UPDATE ledger SET actor = 'mallory'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM ledger').run()).toThrow(/append-only/);
    db.close();
    store = StateStore.open(join(dir, 'state.db'));
  });

  it('points aliases only at versions that exist, with weights strictly between 0 and 1', () => {
    store.transaction(() => store.control.publish(version(), change));
    expect(() =>
      store.transaction(() => store.control.setAlias({ instance: 'a-f-dev', name: 'live', version: 2 }, change)),
    ).toThrow(/has no version 2/);
    expect(() =>
      store.transaction(() =>
        store.control.setAlias(
          { instance: 'a-f-dev', name: 'live', version: 1, extra: { version: 1, weight: 0.5 } },
          change,
        ),
      ),
    ).toThrow(/traffic split/);
    store.transaction(() => store.control.publish(version({ configDigest: 'd2' }), change));
    const alias = store.transaction(() =>
      store.control.setAlias(
        { instance: 'a-f-dev', name: 'live', version: 1, extra: { version: 2, weight: 0.1 } },
        change,
      ),
    );
    expect(alias).toMatchObject({ version: 1, extra: { version: 2, weight: 0.1 }, revision: 1 });
    expect(() =>
      store.transaction(() =>
        store.control.setAlias({ instance: 'a-f-dev', name: 'live', version: 2, expectedRevision: 7 }, change),
      ),
    ).toThrow(/changed while this operation ran/);
  });

  it('writes a change and its ledger record in one transaction: a failure undoes both', () => {
    store.transaction(() => store.control.publish(version(), change));
    const before = store.ledger.list().length;
    expect(() =>
      store.transaction(() => {
        store.control.setAlias({ instance: 'a-f-dev', name: 'live', version: 1 }, change);
        throw new Error('crash after the alias moved');
      }),
    ).toThrow(/crash/);
    expect(store.control.getAlias('a-f-dev', 'live')).toBeUndefined();
    expect(store.ledger.list()).toHaveLength(before);
    store.transaction(() => store.control.setAlias({ instance: 'a-f-dev', name: 'live', version: 1 }, change));
    expect(store.ledger.list({ kind: 'alias.moved' })).toMatchObject([
      { alias: 'live', version: 1, previousVersion: null, actor: 'tester', operation: 'test' },
    ]);
  });

  it("reads an alias's last record and a kind's through an index, not the whole ledger", () => {
    store.close();
    store = StateStore.open(join(dir, 'state.db'));
    const db = new Database(join(dir, 'state.db'), { readonly: true });
    // The statement StateStore's ledger makes for a query of these columns, limited to the newest record.
    const plan = (where: string): string =>
      (
        db
          .prepare(
            `EXPLAIN QUERY PLAN SELECT * FROM (SELECT * FROM ledger WHERE ${where} ORDER BY seq DESC LIMIT 1) ORDER BY seq`,
          )
          .all({ instance: 'a-f-prod', alias: 'live', kind: 'alarms.kept' }) as { detail: string }[]
      )
        .map((row) => row.detail)
        .join('; ');
    expect(plan('instance = @instance AND alias = @alias')).toContain('USING INDEX ledger_by_alias');
    expect(plan('kind = @kind')).toContain('USING INDEX ledger_by_kind');
    db.close();
  });

  it('runs migrations once and records the schema version', () => {
    store.close();
    store = StateStore.open(join(dir, 'state.db'));
    const db = new Database(join(dir, 'state.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
