/**
 * The secret store over a real SQLite file and a real key file: values sealed at rest, keys
 * kept outside the app, wrong keys refused clearly, and versions pinned to the revision they
 * were published with.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore } from '../state/index.js';
import { keyFilePath } from './key.js';
import { SecretStore } from './store.js';
import { thrown } from '../../test/helpers/thrown.js';

const dirs: string[] = [];
const stores: StateStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(env: NodeJS.ProcessEnv = {}) {
  const root = mkdtempSync(join(tmpdir(), 'stagecraft-secrets-'));
  dirs.push(root);
  const appDir = join(root, 'app');
  mkdirSync(appDir);
  const state = StateStore.open(join(appDir, '.stagecraft', 'state.db'));
  stores.push(state);
  const processEnv = { HOME: join(root, 'home'), ...env };
  return { root, appDir, state, env: processEnv, store: new SecretStore(state, { env: processEnv, appDir }) };
}

const base64Key = () => randomBytes(32).toString('base64');
const VALUE = 'sk_live_correct-horse-battery-staple';

describe('SecretStore', () => {
  it('makes a 0600 key file in the user config folder, seals values, and never writes one in clear', () => {
    const { store, env, appDir, state } = setup();
    const { revision, createdKeyFile } = store.set('prod', 'payment-key', VALUE, 'ada');
    expect(createdKeyFile).toBe(keyFilePath(env));
    expect(createdKeyFile?.startsWith(join(env.HOME as string, '.config', 'stagecraft'))).toBe(true);
    expect(statSync(createdKeyFile as string).mode & 0o777).toBe(0o600);
    expect(store.forEnvironment('prod')('payment-key')).toEqual({ value: VALUE, revision });
    expect(store.forEnvironment('dev')('payment-key')).toBeUndefined();
    expect(store.list('prod')).toMatchObject([{ name: 'payment-key', revision, revisions: 1, changedBy: 'ada' }]);
    state.close();
    for (const file of readdirSync(join(appDir, '.stagecraft'))) {
      expect(readFileSync(join(appDir, '.stagecraft', file)).includes(Buffer.from(VALUE)), file).toBe(false);
    }
  });

  it('takes the key from STAGECRAFT_SECRET_KEY (base64 or hex) before any file', () => {
    const key = randomBytes(32);
    const { store, env } = setup({ STAGECRAFT_SECRET_KEY: key.toString('hex') });
    expect(store.set('prod', 'k', VALUE, 'ci').createdKeyFile).toBeUndefined();
    expect(() => statSync(keyFilePath(env))).toThrow();
    const sameKey = new SecretStore(stores[0] as StateStore, {
      env: { ...env, STAGECRAFT_SECRET_KEY: key.toString('base64') },
      appDir: '/nowhere',
    });
    expect(sameKey.forEnvironment('prod')('k')?.value).toBe(VALUE);
  });

  it('refuses a wrong key, a missing key, a malformed key, a key others can read and a key inside the app, each saying so', () => {
    const { store, state, env, appDir } = setup({ STAGECRAFT_SECRET_KEY: base64Key() });
    store.set('prod', 'payment-key', VALUE, 'ada');
    const other = (extra: NodeJS.ProcessEnv) => new SecretStore(state, { env: { ...env, ...extra }, appDir });

    const wrong = thrown(() => other({ STAGECRAFT_SECRET_KEY: base64Key() }).forEnvironment('prod')('payment-key'));
    expect(wrong.code).toBe('SECRET_KEY_INVALID');
    expect(wrong.message).toMatch(
      /^the secret key from STAGECRAFT_SECRET_KEY \(key [0-9a-f]{16}\) is the wrong key for secret payment-key of prod, which was stored with key [0-9a-f]{16}$/,
    );
    expect(thrown(() => other({ STAGECRAFT_SECRET_KEY: base64Key() }).set('prod', 'x', 'y', 'eve')).message).toContain(
      'is the wrong key for this app',
    );

    const missing = thrown(() => other({ STAGECRAFT_SECRET_KEY: '' }).forEnvironment('prod')('payment-key'));
    expect(missing.message).toContain('there is no secret key to open secret payment-key of prod');
    expect(missing.hint).toContain(keyFilePath(env));

    expect(
      thrown(() => other({ STAGECRAFT_SECRET_KEY: 'hunter2' }).forEnvironment('prod')('payment-key')).message,
    ).toBe('the secret key in STAGECRAFT_SECRET_KEY is not a 256-bit key (expected 32 bytes written as base64 or hex)');

    const file = keyFilePath(env);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `${base64Key()}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const readable = thrown(() => other({ STAGECRAFT_SECRET_KEY: '' }).forEnvironment('prod')('payment-key'));
    expect(readable.message).toContain('can be read by others (mode 644)');
    expect(readable.hint).toBe(`run: chmod 600 ${file}`);

    const inside = thrown(() =>
      other({ STAGECRAFT_SECRET_KEY: '', XDG_CONFIG_HOME: appDir }).set('prod', 'x', 'y', 'eve'),
    );
    expect(inside.message).toContain('would be inside the app folder');
    expect(store.list('prod').map((entry) => entry.name)).toEqual(['payment-key']);
  });

  it('opens a version with the revisions it pinned, whatever was set since, until they are removed', () => {
    const { store } = setup({ STAGECRAFT_SECRET_KEY: base64Key() });
    const first = store.set('prod', 'payment-key', 'v1-value', 'ada');
    const version = {
      instance: 'shop-api-prod',
      version: 3,
      environment: 'prod',
      config: { KEY: `\${secret:payment-key@${first.revision}}`, PLAIN: 'x' },
    };
    const second = store.set('prod', 'payment-key', 'v2-value', 'ada');
    expect(store.forEnvironment('prod')('payment-key')).toEqual({ value: 'v2-value', revision: second.revision });
    expect(store.resolveVersion(version)).toEqual({
      environment: { KEY: 'v1-value', PLAIN: 'x' },
      secrets: ['v1-value'],
    });
    expect(store.list('prod')).toMatchObject([{ revision: second.revision, revisions: 2 }]);
    expect(store.remove('prod', 'payment-key', 'ada')).toBe(2);
    const gone = thrown(() => store.resolveVersion(version));
    expect(gone.code).toBe('SECRET_NOT_FOUND');
    expect(gone.message).toBe(
      `version 3 of shop-api-prod uses revision ${first.revision} of secret payment-key (prod), which was removed`,
    );
    expect(thrown(() => store.remove('prod', 'payment-key', 'ada')).message).toBe(
      'no secret payment-key is set for prod',
    );
    // Revision numbers are never reused: a version pinned to a removed one can never open a newer value.
    expect(store.set('prod', 'payment-key', 'v3-value', 'ada').revision).toBeGreaterThan(second.revision);
  });

  it('needs no key for a version without secrets, and records set and rm in the ledger by name only', () => {
    const { store, state } = setup({ STAGECRAFT_SECRET_KEY: '' });
    expect(store.resolveVersion({ instance: 'i', version: 1, environment: 'prod', config: { A: 'b' } })).toEqual({
      environment: { A: 'b' },
      secrets: [],
    });
    expect(state.ledger.list({}).length).toBe(0);
    store.set('prod', 'payment-key', VALUE, 'ada');
    store.remove('prod', 'payment-key', 'bob');
    const entries = state.ledger.list({});
    expect(entries.map((entry) => [entry.kind, entry.actor, entry.environment, entry.detail['name']])).toEqual([
      ['secret.set', 'ada', 'prod', 'payment-key'],
      ['secret.removed', 'bob', 'prod', 'payment-key'],
    ]);
    expect(JSON.stringify(entries)).not.toContain(VALUE);
  });

  it('keeps revisions immutable in the database itself', () => {
    const { store, appDir } = setup({ STAGECRAFT_SECRET_KEY: base64Key() });
    store.set('prod', 'payment-key', VALUE, 'ada');
    const db = new Database(join(appDir, '.stagecraft', 'state.db'));
    try {
      expect(() => db.prepare("UPDATE secrets SET environment = 'dev'").run()).toThrow(
        'secret revisions are immutable',
      );
    } finally {
      db.close();
    }
    expect(store.forEnvironment('prod')('payment-key')?.value).toBe(VALUE);
  });

  it('refuses bad names and empty values before touching anything', () => {
    const { store, state } = setup({ STAGECRAFT_SECRET_KEY: base64Key() });
    expect(thrown(() => store.set('prod', 'sk/live+x', VALUE, 'a')).message).toBe(
      'the secret name given (9 characters) is not a valid name',
    );
    expect(thrown(() => store.set('prod', 'x', '', 'a')).message).toBe('the value for secret x is empty');
    expect(thrown(() => store.set('prod', 'x', 'y'.repeat(5000), 'a')).message).toContain('at most 4096 fit');
    expect(state.ledger.list({}).length).toBe(0);
  });
});
