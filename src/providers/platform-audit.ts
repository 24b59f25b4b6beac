/**
 * What a platform holds beyond versions and aliases — on AWS, each environment's CloudFormation
 * stack and the event sources bound to `live` — checked against what Stagecraft applied there,
 * for `doctor`. The caller tells what the state knows (which environments were deployed, which
 * releases run there); the provider reads the platform and judges.
 */
import type { Manifest } from '../manifest/index.js';

export interface AuditedEnvironment {
  name: string;
  /** Whether Stagecraft has deployed here (the ledger says so, or an alias exists): what it made must then exist. */
  deployed: boolean;
  /** The manifests of the releases `live` and `smoke` run here: the stack was last applied with one of them. */
  releases: Manifest[];
  /** Per function with something live, the manifest of the release `live` runs. */
  live: Record<string, Manifest>;
}

/** One check of `doctor`'s report as the platform found it: a failure breaks an invariant, a warning needs attention. */
export interface PlatformAudit {
  name: string;
  /** Said when nothing is wrong. */
  ok: string;
  failures: string[];
  warnings: string[];
  /** Said when something failed: what it means and what to do. */
  failed: string;
  /** Said when there are only warnings. */
  warned: string;
}
