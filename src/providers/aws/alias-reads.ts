/**
 * What this process knows of each alias, so that a move reads it only when it must (issue 12 §1): the
 * state it last read or wrote, or the ledger's record of the last move, stands where Lambda itself
 * checks UpdateAlias's RevisionId and refuses a stale one. An endpoint that ignores RevisionId (moto)
 * is found out once per provider, and there every alias is read before it moves.
 */
import { GetAliasCommand, UpdateAliasCommand, type AliasConfiguration } from '@aws-sdk/client-lambda';
import { errorName, isNotFound, providerError } from '../../aws-errors.js';
import type { LedgerEntry } from '../../state/index.js';
import type { AwsClients } from './clients.js';
import { encodeAliasMeta } from './metadata.js';

/** A RevisionId no alias has (Lambda's are UUIDs). */
export const REVISION_PROBE = '00000000-0000-0000-0000-000000000000';

export interface AliasReadsDeps {
  clients: AwsClients;
  /** The last ledger record of an alias: a move this ledger recorded stands for a GetAlias (see `recorded`). */
  aliasHistory?: (instance: string, alias: string) => LedgerEntry | undefined;
}

export class AliasReads {
  /** The last state of each alias this process read or wrote, by `instance:alias`. */
  private readonly cache = new Map<string, AliasConfiguration>();
  /** `instance:alias` keys whose ledger record Lambda refused as stale: read from Lambda from then on. */
  private readonly staleRecords = new Set<string>();
  /** Whether the endpoint checks UpdateAlias's RevisionId, once asked (see revisionsChecked). */
  private revisionProbe: Promise<boolean> | undefined;

  constructor(private readonly deps: AliasReadsDeps) {}

  /** The alias as known without a read, where that may stand; undefined when the caller must read it. */
  async known(instance: string, alias: string): Promise<AliasConfiguration | undefined> {
    const key = `${instance}:${alias}`;
    if ((this.cache.has(key) || this.recorded(instance, alias)) && (await this.revisionsChecked(instance, alias)))
      return this.cache.get(key);
    return undefined;
  }

  /** What this process last read or wrote, whatever the endpoint checks. */
  cached(instance: string, alias: string): AliasConfiguration | undefined {
    return this.cache.get(`${instance}:${alias}`);
  }

  /** GetAlias; undefined when there is no such alias. */
  async read(instance: string, alias: string): Promise<AliasConfiguration | undefined> {
    try {
      return this.remember(
        instance,
        alias,
        await this.deps.clients.lambda.send(new GetAliasCommand({ FunctionName: instance, Name: alias })),
      );
    } catch (error) {
      this.forget(instance, alias);
      if (isNotFound(error)) return undefined;
      throw providerError(error, `cannot read alias ${alias} of ${instance}`);
    }
  }

  remember(instance: string, alias: string, configuration: AliasConfiguration): AliasConfiguration {
    this.cache.set(`${instance}:${alias}`, configuration);
    return configuration;
  }

  forget(instance: string, alias: string): void {
    this.cache.delete(`${instance}:${alias}`);
  }

  /** Forgets every alias of these function instances (their environment was destroyed). */
  forgetInstances(instances: readonly string[]): void {
    for (const key of [...this.cache.keys()])
      if (instances.some((instance) => key.startsWith(`${instance}:`))) this.cache.delete(key);
  }

  /** Lambda refused a move from the ledger's record of this alias: it is read from Lambda from now on. */
  markStale(instance: string, alias: string): void {
    this.staleRecords.add(`${instance}:${alias}`);
  }

  /**
   * Whether this endpoint refuses an UpdateAlias whose RevisionId is stale: Lambda does, moto ignores
   * the parameter. Asked once per provider, with a no-op update (the alias as just read) carrying a
   * RevisionId no alias has.
   */
  private revisionsChecked(instance: string, alias: string): Promise<boolean> {
    this.revisionProbe ??= this.read(instance, alias).then(async (fresh) => {
      if (!fresh) {
        // Gone since it was recorded: nothing to ask with; the caller reads it.
        this.revisionProbe = undefined;
        return false;
      }
      try {
        const answer = await this.deps.clients.lambda.send(
          new UpdateAliasCommand({
            FunctionName: instance,
            Name: alias,
            FunctionVersion: fresh.FunctionVersion,
            Description: fresh.Description,
            RoutingConfig: { AdditionalVersionWeights: fresh.RoutingConfig?.AdditionalVersionWeights ?? {} },
            RevisionId: REVISION_PROBE,
          }),
        );
        this.remember(instance, alias, answer);
        return false;
      } catch (error) {
        if (errorName(error) === 'PreconditionFailedException') return true;
        this.revisionProbe = undefined;
        throw providerError(error, `cannot read alias ${alias} of ${instance}`);
      }
    });
    return this.revisionProbe;
  }

  /** The alias as the ledger last recorded its move, when that record says all a move needs. */
  private recorded(instance: string, alias: string): AliasConfiguration | undefined {
    if (this.staleRecords.has(`${instance}:${alias}`)) return undefined;
    const entry = this.deps.aliasHistory?.(instance, alias);
    const { revision, revisionId, bindings, updatedAt, extra } = entry?.detail ?? {};
    if (
      entry?.kind !== 'alias.moved' ||
      entry.version === null ||
      typeof revision !== 'number' ||
      typeof revisionId !== 'string' ||
      typeof bindings !== 'string' ||
      typeof updatedAt !== 'string'
    )
      return undefined;
    const split = extra as { version: number; weight: number } | undefined;
    return this.remember(instance, alias, {
      Name: alias,
      FunctionVersion: String(entry.version),
      RoutingConfig: { AdditionalVersionWeights: split ? { [String(split.version)]: split.weight } : {} },
      Description: encodeAliasMeta({ revision, updatedAt, bindings }),
      RevisionId: revisionId,
    });
  }
}
