/**
 * The local secret store of one app: values sealed with the user's key in the state database,
 * set per environment, resolved at deploy time (the current revision, pinned into the version)
 * and again when an execution environment starts (the pinned revision, opened).
 *
 * The key is looked for only when a value must be sealed or opened: an app that uses no secret
 * never needs one.
 */
import { StagecraftError } from '../errors.js';
import { fillPinnedSecrets, pinnedSecrets, type SecretValue } from '../manifest/index.js';
import type { SecretRevision, SecretSummary, StateStore } from '../state/index.js';
import { seal, unseal } from './cipher.js';
import { findKey, findOrCreateKey, keyFilePath, KEY_VARIABLE, type KeyOptions, type SecretKey } from './key.js';

/** A secret name as `${secret:NAME}` allows it. */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Most bytes of one value: Lambda allows 4 KB of environment variables for a whole function. */
export const MAX_SECRET_BYTES = 4096;

/** What a published version needs to run: its environment with secrets opened, and the values to mask. */
export interface OpenedConfig {
  environment: Record<string, string>;
  secrets: string[];
}

export class SecretStore {
  private key: SecretKey | undefined;

  constructor(
    private readonly state: StateStore,
    private readonly keyOptions: KeyOptions,
  ) {}

  /** Seals `value` as a new revision of `name` in `environment`; makes the key file when there is none. */
  set(environment: string, name: string, value: string, actor: string): { revision: number; createdKeyFile?: string } {
    checkName(name);
    if (value.length === 0)
      throw new StagecraftError('ARGUMENT_INVALID', `the value for secret ${name} is empty`, {
        hint: 'pipe the value on stdin, e.g. `printf %s "$VALUE" | stagecraft secret set <env> <name>`',
      });
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) {
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `the value for secret ${name} is ${Buffer.byteLength(value)} bytes; at most ${MAX_SECRET_BYTES} fit in a Lambda environment`,
      );
    }
    const { key, created } = this.key ? { key: this.key, created: false } : findOrCreateKey(this.keyOptions);
    this.key = key;
    const others = this.state.secrets.keyIds().filter((id) => id !== key.id);
    if (others.length > 0) throw this.wrongKey(key, others[0] as string, 'this app, whose secrets were stored with');
    const revision = this.state.transaction(() =>
      this.state.secrets.set(environment, name, seal(key, environment, name, value), actor),
    );
    return { revision, ...(created ? { createdKeyFile: key.from } : {}) };
  }

  /** Deletes every revision of `name`; versions that pinned one can no longer start. */
  remove(environment: string, name: string, actor: string): number {
    checkName(name);
    const removed = this.state.transaction(() => this.state.secrets.remove(environment, name, actor));
    if (removed === 0) throw notSet(environment, name);
    return removed;
  }

  list(environment: string): SecretSummary[] {
    return this.state.secrets.list(environment);
  }

  isSet(environment: string, name: string): boolean {
    return this.state.secrets.current(environment, name) !== undefined;
  }

  /**
   * `${secret:NAME}` of one environment at deploy time: the current value (opened, which proves
   * the key) and its revision, or undefined when it is not set.
   */
  forEnvironment(environment: string): (name: string) => SecretValue | undefined {
    return (name) => {
      const current = this.state.secrets.current(environment, name);
      return current && { value: this.open(current), revision: current.revision };
    };
  }

  /**
   * A published version's environment with its pinned `${secret:NAME@revision}` references
   * opened: the exact values it was published with, whatever was set since.
   */
  resolveVersion(version: {
    instance: string;
    version: number;
    environment: string;
    config: Record<string, string>;
  }): OpenedConfig {
    const secrets = new Set<string>();
    const environment: Record<string, string> = {};
    // An ephemeral environment uses the secrets of the chain environment it copies.
    const owner = this.state.environments.get(version.environment)?.from ?? version.environment;
    for (const [key, stored] of Object.entries(version.config)) {
      if (pinnedSecrets(stored).length === 0) {
        environment[key] = stored;
        continue;
      }
      environment[key] = fillPinnedSecrets(stored, (name, revision) => {
        const found = this.state.secrets.revision(owner, name, revision);
        if (!found) {
          throw new StagecraftError(
            'SECRET_NOT_FOUND',
            `version ${version.version} of ${version.instance} uses revision ${revision} of secret ${name} (${version.environment}), which was removed`,
            {
              hint: `set it again with \`stagecraft secret set ${version.environment} ${name}\`, then deploy ${version.environment} to publish a version that uses it`,
            },
          );
        }
        const value = this.open(found);
        secrets.add(value);
        return value;
      });
    }
    return { environment, secrets: [...secrets] };
  }

  /**
   * Every stored value, opened, for `doctor` to look for in clear; undefined when no key is at
   * hand (nothing to compare with — never an error, looking must work without the key).
   */
  allValues(): string[] | undefined {
    const revisions = this.state.secrets.all();
    if (revisions.length === 0) return [];
    this.key ??= findKey(this.keyOptions);
    if (!this.key) return undefined;
    return revisions.map((revision) => this.open(revision));
  }

  private open(revision: SecretRevision): string {
    const key = this.loadKey(revision);
    if (revision.keyId !== key.id)
      throw this.wrongKey(
        key,
        revision.keyId,
        `secret ${revision.name} of ${revision.environment}, which was stored with`,
      );
    const value = unseal(key, revision.environment, revision.name, revision);
    if (value === undefined) {
      throw new StagecraftError(
        'STATE_FAILED',
        `secret ${revision.name} of ${revision.environment} (revision ${revision.revision}) does not decrypt with its own key: the stored value is damaged`,
        {
          hint: `set it again: \`stagecraft secret set ${revision.environment} ${revision.name}\``,
        },
      );
    }
    return value;
  }

  private loadKey(needed: SecretRevision): SecretKey {
    this.key ??= findKey(this.keyOptions);
    if (this.key) return this.key;
    throw new StagecraftError(
      'SECRET_KEY_INVALID',
      `there is no secret key to open secret ${needed.name} of ${needed.environment} (stored with key ${needed.keyId})`,
      {
        hint: `set ${KEY_VARIABLE}, or put the key it was stored with in ${keyFilePath(this.keyOptions.env)} (mode 0600)`,
      },
    );
  }

  private wrongKey(key: SecretKey, storedWith: string, what: string): StagecraftError {
    return new StagecraftError(
      'SECRET_KEY_INVALID',
      `the secret key from ${key.from} (key ${key.id}) is the wrong key for ${what} key ${storedWith}`,
      {
        hint: `use the key they were stored with (${KEY_VARIABLE} or ${keyFilePath(this.keyOptions.env)}); if it is lost, remove each secret with \`stagecraft secret rm\` and set it again`,
      },
    );
  }
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    // Not echoed: what was typed as a name may well be the value, pasted in the wrong place.
    throw new StagecraftError(
      'ARGUMENT_INVALID',
      `the secret name given (${name.length} characters) is not a valid name`,
      { hint: 'use letters, digits, ".", "_" and "-", starting with a letter or digit, as in ${secret:payment-key}' },
    );
  }
}

function notSet(environment: string, name: string): StagecraftError {
  return new StagecraftError('SECRET_NOT_FOUND', `no secret ${name} is set for ${environment}`, {
    hint: `\`stagecraft secret list ${environment}\` shows the secrets that are set`,
  });
}
