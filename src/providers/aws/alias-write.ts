/**
 * The write of an alias move: CreateAlias or UpdateAlias with Stagecraft's revision in the
 * description, and the event sources of a `live` alias bound before their digest is recorded.
 */
import {
  CreateAliasCommand,
  UpdateAliasCommand,
  type AliasConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { errorName, providerError } from '../../aws-errors.js';
import { StagecraftError } from '../../errors.js';
import type { AliasTarget } from '../../state/index.js';
import type { AliasReads } from './alias-reads.js';
import { decodeAliasMeta, encodeAliasMeta } from './metadata.js';

/** A `live` alias's event sources and permissions: the digest of what the manifest declares, and how to make it so. */
export interface LiveBindings {
  digest: string;
  reconcile(): Promise<void>;
  unbind(): Promise<void>;
}

export interface AliasWrite {
  target: AliasTarget;
  /** The alias as read (or known) before the move; undefined when it does not exist yet. */
  current: AliasConfiguration | undefined;
  revision: number;
  updatedAt: string;
  /** Set when the alias is an environment's `live` alias. */
  live: LiveBindings | undefined;
}

/**
 * Moves the alias and remembers Lambda's answer in `aliases`. Returns that answer and the state the
 * move started from, which is a fresh read when Lambda refused an older RevisionId but the alias
 * still said the same. A move another process made meanwhile is a STATE_FAILED.
 */
export async function writeAlias(
  lambda: LambdaClient,
  aliases: AliasReads,
  { target, current, revision, updatedAt, live }: AliasWrite,
): Promise<{ answer: AliasConfiguration; from: AliasConfiguration | undefined }> {
  const meta = decodeAliasMeta(current?.Description);
  const routing = {
    AdditionalVersionWeights: target.extra ? { [String(target.extra.version)]: target.extra.weight } : {},
  };
  const move = (bindings: string, revisionId: string | undefined) =>
    lambda.send(
      new UpdateAliasCommand({
        FunctionName: target.instance,
        Name: target.name,
        FunctionVersion: String(target.version),
        RoutingConfig: routing,
        Description: encodeAliasMeta({ revision, updatedAt, bindings }),
        // Lambda refuses the update when the alias changed since it was read (optimistic locking).
        ...(revisionId === undefined ? {} : { RevisionId: revisionId }),
      }),
    );
  let from = current;
  let answer: AliasConfiguration;
  try {
    if (from) {
      if (live && meta.bindings !== live.digest) await live.reconcile();
      const bindings = live ? live.digest : meta.bindings;
      try {
        answer = await move(bindings, from.RevisionId);
      } catch (error) {
        // The state this process had (a ledger record, an earlier answer) may carry an older
        // RevisionId than the alias: when the alias still says what that state said, move it.
        if (errorName(error) !== 'PreconditionFailedException') throw error;
        aliases.markStale(target.instance, target.name);
        const fresh = await aliases.read(target.instance, target.name);
        if (!fresh || !sameAlias(fresh, from)) throw error;
        from = fresh;
        answer = await move(bindings, fresh.RevisionId);
      }
    } else {
      answer = await lambda.send(
        new CreateAliasCommand({
          FunctionName: target.instance,
          Name: target.name,
          FunctionVersion: String(target.version),
          RoutingConfig: routing,
          Description: encodeAliasMeta({ revision, updatedAt, bindings: '' }),
        }),
      );
      if (live) {
        // Bindings need the alias to exist; its digest is written only once they are all made,
        // so an interrupted run is finished by the next move of this alias.
        aliases.remember(target.instance, target.name, answer);
        await live.reconcile();
        answer = await move(live.digest, undefined);
      }
    }
    aliases.remember(target.instance, target.name, answer);
    return { answer, from };
  } catch (error) {
    aliases.forget(target.instance, target.name);
    if (errorName(error) === 'PreconditionFailedException') {
      throw new StagecraftError(
        'STATE_FAILED',
        `alias ${target.name} of ${target.instance} changed while this operation ran`,
        { hint: 'read the alias again and retry', cause: error },
      );
    }
    throw providerError(error, `cannot point alias ${target.name} of ${target.instance} at version ${target.version}`);
  }
}

/** Whether two reads of an alias say the same: version, weights and Stagecraft's revision. */
function sameAlias(a: AliasConfiguration, b: AliasConfiguration): boolean {
  const weights = (alias: AliasConfiguration) =>
    JSON.stringify(Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).sort());
  return (
    a.FunctionVersion === b.FunctionVersion &&
    weights(a) === weights(b) &&
    decodeAliasMeta(a.Description).revision === decodeAliasMeta(b.Description).revision
  );
}
