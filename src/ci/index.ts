/** `stagecraft ci`: the delivery pipeline of an app's chain, for Bitbucket, GitHub or GitLab. */
import type { Manifest } from '../manifest/index.js';
import { renderBitbucket } from './bitbucket.js';
import { renderGithub } from './github.js';
import { renderGitlab } from './gitlab.js';
import { planPipeline, type CiKind } from './plan.js';

export { CI_KINDS, PIPELINE_FILES, RELEASE_FILE, planPipeline, type CiKind, type CiPlan } from './plan.js';

const RENDER: Record<CiKind, (plan: ReturnType<typeof planPipeline>) => string> = {
  bitbucket: renderBitbucket,
  github: renderGithub,
  gitlab: renderGitlab,
};

/** The pipeline file's text: the same manifest always gives the same bytes. */
export function generatePipeline(manifest: Manifest, kind: CiKind): string {
  return RENDER[kind](planPipeline(manifest, kind));
}
