/**
 * Which Node binary runs a `nodejsNN.x` function. Faithful first: an explicit binary of the right
 * major version from `STAGECRAFT_NODE_<major>`; otherwise the host's own Node, with a warning
 * when its major version differs, so nobody mistakes a Node 20 run for a Node 22 one (DESIGN §4).
 */
import { existsSync } from 'node:fs';
import { StagecraftError } from '../errors.js';
import type { NodeBinary } from './types.js';

export interface HostNode {
  execPath: string;
  /** `process.version`, e.g. `v20.19.0`. */
  version: string;
}

/** The Node major version an AWS runtime name stands for, e.g. 22 for `nodejs22.x`. */
export function nodeMajorOf(runtime: string): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime);
  return match === null ? undefined : Number(match[1]);
}

export function chooseNodeBinary(
  runtime: string,
  env: NodeJS.ProcessEnv = process.env,
  host: HostNode = { execPath: process.execPath, version: process.version },
): NodeBinary {
  const major = nodeMajorOf(runtime);
  if (major === undefined) {
    throw new StagecraftError('ARGUMENT_INVALID', `"${runtime}" is not a Node.js runtime.`, {
      hint: 'Use an AWS Node.js runtime name such as nodejs22.x.',
    });
  }
  const variable = `STAGECRAFT_NODE_${major}`;
  const explicit = env[variable];
  if (explicit !== undefined && explicit !== '') {
    if (!existsSync(explicit)) {
      throw new StagecraftError('ARGUMENT_INVALID', `${variable} points to ${explicit}, which does not exist.`, {
        hint: `Set ${variable} to the path of a Node ${major} binary, or unset it to use the host's Node.`,
      });
    }
    return { path: explicit };
  }
  const hostMajor = Number(/^v(\d+)/.exec(host.version)?.[1]);
  if (hostMajor === major) return { path: host.execPath };
  return {
    path: host.execPath,
    warning: `${runtime} runs on the host's Node ${host.version} here; set ${variable} to a Node ${major} binary for a faithful match`,
  };
}
