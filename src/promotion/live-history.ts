/**
 * Where `live` has been, from the ledger, as a stack: a forward move pushes the new version, a
 * rollback (by command or by a failed promotion) pops back to it. A second rollback so goes
 * further back instead of forward to the version the first one left.
 */
import type { LedgerEntry } from '../state/index.js';

export function liveStack(moves: readonly LedgerEntry[]): number[] {
  const stack: number[] = [];
  for (const move of moves) {
    const undo = move.operation === 'rollback' || move.detail['rollback'] === true;
    if (move.kind === 'alias.deleted' || move.version === null) {
      stack.length = 0;
      continue;
    }
    if (stack.length === 0 && move.previousVersion !== null) stack.push(move.previousVersion);
    const index = stack.lastIndexOf(move.version);
    if (undo && index >= 0) stack.length = index + 1;
    else if (stack.at(-1) !== move.version) stack.push(move.version);
  }
  return stack;
}

/** The version a rollback from `current` goes back to, or why there is none. */
export function previousLive(moves: readonly LedgerEntry[], current: number): { to: number } | { why: string } {
  const stack = liveStack(moves);
  if (stack.at(-1) !== current) {
    return { why: `live is on v${current}, which the ledger does not show it moved to; name the target with --to` };
  }
  const to = stack.at(-2);
  if (to === undefined)
    return { why: `v${current} is the first version that was live there; nothing earlier to go back to` };
  return { to };
}
