/**
 * What a handler may reach, as on Lambda: its code, the bootstrap and the runtime's own files,
 * read-only; a private, writable `/tmp` of `ephemeralStorage` MB; its own processes in `/proc`.
 * Not the state directory, the secret key file, the host's home or other processes' environments.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 *
 * - `bwrap` (bubblewrap) wraps any runtime's process: bind mounts, a tmpfs `/tmp`, a PID namespace
 *   (its /proc shows nothing else, and everything in it dies with the environment). The network is
 *   the host's: the Runtime API and local services are on loopback.
 * - Without bwrap, Node runtimes get Node's permission model (`--experimental-permission`): reads
 *   of the code, bootstrap and Node only; writes to a private temporary folder (`TMPDIR`), so a
 *   hard-coded `/tmp/...` path is refused there; no child processes or workers.
 * - Otherwise (a `provided*` runtime without bwrap, or `STAGECRAFT_SANDBOX=off`) there is none, and
 *   `up` and `invoke` say so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export type SandboxKind = 'bwrap' | 'node-permission' | 'none';

export interface SandboxChoice {
  /** The bwrap binary when it works on this machine. */
  bwrap: string | undefined;
  /** `STAGECRAFT_SANDBOX=off`: run without one, on purpose. */
  off: boolean;
}

/** Lambda's default ephemeral storage, MB. */
export const DEFAULT_EPHEMERAL_MB = 512;

/** What the trial run of bwrap runs: the namespaces and mounts every environment gets. */
const TRIAL = ['--ro-bind', '/', '/', '--unshare-pid', '--proc', '/proc', '--dev', '/dev', 'true'];
const TRIAL_TIMEOUT_MS = 5_000;

/** The bwrap on PATH, if any (a sandbox turned off finds none). */
function bwrapOnPath(hostEnv: NodeJS.ProcessEnv): string | undefined {
  if (hostEnv['STAGECRAFT_SANDBOX'] === 'off') return undefined;
  const candidates = (hostEnv['PATH'] ?? '/usr/bin:/bin').split(delimiter).map((dir) => join(dir, 'bwrap'));
  return candidates.find((path) => existsSync(path));
}

/**
 * What detectSandbox finds when the bwrap on PATH works, without its trial run: for a runtime
 * booted before the trial can answer (src/cli/early-spares.ts); where bwrap does not work, such a
 * runtime exits at once and is never adopted.
 */
export function sandboxOnPath(hostEnv: NodeJS.ProcessEnv = process.env): SandboxChoice {
  return { bwrap: bwrapOnPath(hostEnv), off: hostEnv['STAGECRAFT_SANDBOX'] === 'off' };
}

/** Finds a working bwrap (on PATH; one trial run, since user namespaces may be disabled). */
export function detectSandbox(hostEnv: NodeJS.ProcessEnv = process.env): SandboxChoice {
  const { bwrap: found, off } = sandboxOnPath(hostEnv);
  if (found === undefined) return { bwrap: undefined, off };
  const trial = spawnSync(found, TRIAL, { stdio: 'ignore', timeout: TRIAL_TIMEOUT_MS });
  return { bwrap: trial.status === 0 ? found : undefined, off };
}

/**
 * `detectSandbox` without blocking: the trial run (tens of milliseconds, more on a busy machine)
 * overlaps whatever the caller does next — for `up`, opening its servers and its first
 * environment's Runtime API — instead of holding up its start.
 */
export function detectSandboxSoon(hostEnv: NodeJS.ProcessEnv = process.env): Promise<SandboxChoice> {
  const { bwrap: found, off } = sandboxOnPath(hostEnv);
  if (found === undefined) return Promise.resolve({ bwrap: undefined, off });
  return new Promise((resolve) => {
    const trial = spawn(found, TRIAL, { stdio: 'ignore', timeout: TRIAL_TIMEOUT_MS });
    trial.once('error', () => resolve({ bwrap: undefined, off }));
    trial.once('exit', (code) => resolve({ bwrap: code === 0 ? found : undefined, off }));
  });
}

export function sandboxKind(choice: SandboxChoice, nodeRuntime: boolean): SandboxKind {
  if (choice.off) return 'none';
  if (choice.bwrap !== undefined) return 'bwrap';
  return nodeRuntime ? 'node-permission' : 'none';
}

/** What a person is told once when an environment runs without (full) isolation. */
export function sandboxNotice(kind: SandboxKind, runtime: string): string | undefined {
  if (kind === 'bwrap') return undefined;
  if (kind === 'node-permission') {
    return (
      `No sandbox (bwrap) on this machine: ${runtime} handlers run under Node's permission model instead ` +
      '(their code read-only, writes only to a private TMPDIR, not to a hard-coded /tmp). Install bubblewrap for the full sandbox.'
    );
  }
  return (
    `No sandbox: ${runtime} handlers run as this user and can read the state directory, the secret key file and other ` +
    "processes' environments. Install bubblewrap (apt-get install bubblewrap) to isolate them."
  );
}

export interface SandboxPlaces {
  codeDir: string;
  /** The bootstrap's folder (LAMBDA_RUNTIME_DIR). */
  runtimeDir: string;
  /** The interpreter of a Node or Python runtime (its installation is bound read-only). */
  interpreter: string | undefined;
  ephemeralMb: number;
}

/** A command wrapped in its sandbox, and what to clean up once the environment is gone. */
export interface Sandboxed {
  command: string;
  args: string[];
  /** Variables the sandbox changes (TMPDIR). */
  env: Record<string, string>;
  dispose(): void;
}

/** System folders a runtime's binaries and libraries come from (merged-/usr or not). */
const SYSTEM = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64'];
/** From /etc only what name resolution, TLS and time zones need: not shadow files and the like. */
const ETC = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/localtime',
  '/etc/passwd',
  '/etc/group',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/mime.types',
];

export function wrapInBwrap(bwrap: string, command: string, args: string[], places: SandboxPlaces): Sandboxed {
  const ro = (path: string): string[] => ['--ro-bind-try', path, path];
  const wrapped = [
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--new-session',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // First: a code folder that lives under the host's /tmp is bound on top of the private one.
    '--size',
    String(places.ephemeralMb * 1024 * 1024),
    '--tmpfs',
    '/tmp',
    ...SYSTEM.flatMap(ro),
    ...ETC.flatMap(ro),
    // An interpreter outside /usr (nvm, pyenv, STAGECRAFT_NODE_<major>): its installation, read-only.
    ...(places.interpreter === undefined ? [] : ro(dirname(dirname(places.interpreter)))),
    ...ro(places.runtimeDir),
    '--ro-bind',
    places.codeDir,
    places.codeDir,
    '--chdir',
    places.codeDir,
    '--',
    command,
    ...args,
  ];
  return { command: bwrap, args: wrapped, env: { TMPDIR: '/tmp' }, dispose: () => undefined };
}

/** Node's permission model: the fallback where bwrap is missing. https://nodejs.org/docs/latest-v20.x/api/permissions.html */
export function nodePermissionArgs(places: SandboxPlaces): Sandboxed & { nodeFlags: string[] } {
  const tmp = mkdtempSync(join(tmpdir(), 'stagecraft-tmp-'));
  const reads = [places.codeDir, places.runtimeDir, tmp];
  if (places.interpreter !== undefined) reads.push(dirname(dirname(places.interpreter)));
  return {
    command: '',
    args: [],
    // One flag per path (Node 20.x's later releases refuse a comma-separated list); the warning would be every environment's first log line.
    nodeFlags: [
      '--experimental-permission',
      '--disable-warning=ExperimentalWarning',
      ...reads.map((path) => `--allow-fs-read=${path}`),
      `--allow-fs-write=${tmp}`,
    ],
    env: { TMPDIR: tmp },
    dispose: () => rmSync(tmp, { recursive: true, force: true }),
  };
}

/** The runtime's command as the sandbox of `kind` runs it. */
export function sandboxed(
  kind: SandboxKind,
  choice: SandboxChoice,
  plain: { command: string; args: string[] },
  places: SandboxPlaces,
): Sandboxed {
  if (kind === 'bwrap' && choice.bwrap !== undefined)
    return wrapInBwrap(choice.bwrap, plain.command, plain.args, places);
  if (kind === 'node-permission') {
    const permission = nodePermissionArgs(places);
    return { ...permission, command: plain.command, args: [...permission.nodeFlags, ...plain.args] };
  }
  return { ...plain, env: {}, dispose: () => undefined };
}
