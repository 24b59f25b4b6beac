/**
 * A spare: a Node runtime process started before it knows its function, the way Lambda keeps
 * sandboxes booted before it has any code to put in them. `dev` keeps one per kind of
 * environment, so the new code of an edit starts in a process that has already paid Node's own
 * start (about 90 ms on this machine, most of a small handler's cold start) while esbuild bundled.
 *
 * It boots in its sandbox around an empty folder of its own (its slot), with variables that are
 * no function's, and waits on its Runtime API pipe. When an execution environment adopts it, the
 * version's code is linked into the slot (its LAMBDA_TASK_ROOT) and the function's variables go
 * down the pipe as the first frame; our bootstrap takes them as its whole environment before any
 * user code loads (node-bootstrap.mjs). The Init Duration counts from there, as on Lambda, where
 * the sandbox's boot is not the function's.
 *
 * What is fixed at spawn must match the function: the Node binary (its runtime), the heap flags
 * (its memory), the size of /tmp, and what Node reads only as it starts — a function that sets
 * NODE_OPTIONS, a locale or the like never gets a spare. /proc/self/environ keeps showing the
 * spare's own variables.
 */
import {
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { StagecraftError } from '../errors.js';
import { encodeFrame } from './bootstrap/frames.mjs';
import { newLogStreamName } from './lambda-environment.js';
import { planLaunch } from './launch-plan.js';
import { spawnRuntime, type RuntimeProcess, type RuntimeProcessEvents } from './runtime-process.js';
import { runtimeKind } from './runtime-command.js';
import { DEFAULT_EPHEMERAL_MB, type SandboxChoice, type SandboxKind } from './sandbox.js';
import type { FunctionSpec, NodeBinary } from './types.js';

/** Read by Node as it starts (options, module paths, TLS roots, the locale): a spare cannot take them later. */
const STARTUP_VARIABLE = /^(NODE_|UV_|LC_)|^(LANG|LANGUAGE|SSL_CERT_FILE|SSL_CERT_DIR|OPENSSL_CONF)$/;

/** Slots are named for the process that made them, so one left by a killed Stagecraft can be found. */
const SLOT_PREFIX = '.spare-';

/** What spares of this spec share, or undefined when no spare can run it (see the file comment). */
export function spareKey(spec: FunctionSpec): string | undefined {
  if (runtimeKind(spec.runtime) !== 'node') return undefined;
  if (Object.keys(spec.environment).some((name) => STARTUP_VARIABLE.test(name))) return undefined;
  return `${spec.runtime}\0${spec.memoryMb}\0${spec.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_MB}`;
}

export interface SpareOptions {
  /** Where the slot goes: beside the code folders, so the code can be hard-linked into it. */
  slotRoot: string;
  binary: NodeBinary;
  choice: SandboxChoice;
  hostEnv: NodeJS.ProcessEnv;
}

type Output = ['stdout' | 'stderr', string];

export class SpareRuntime {
  private readonly process: RuntimeProcess;
  private readonly dispose: () => void;
  /** Whoever adopted the spare: its execution environment. */
  private owner: RuntimeProcessEvents | undefined;
  /** Output before adoption (none from our bootstrap; a Node warning at most), handed to the owner. */
  private readonly early: Output[] = [];
  private gone = false;
  readonly sandbox: SandboxKind;
  /** The variables the sandbox set (TMPDIR): the adopting environment passes them on. */
  readonly sandboxEnv: Record<string, string>;

  private constructor(
    readonly key: string,
    readonly slot: string,
    like: FunctionSpec,
    options: SpareOptions,
  ) {
    // Variables no function owns: a spare is booted for whichever function comes first.
    const neutral: FunctionSpec = {
      ...like,
      functionName: 'stagecraft-spare',
      version: '$LATEST',
      invokedArn: '',
      codeDir: slot,
      handler: '',
      environment: {},
      redact: [],
    };
    const plan = planLaunch(neutral, {
      kind: 'node',
      binary: options.binary,
      choice: options.choice,
      runtimeApi: '127.0.0.1:9',
      logStreamName: newLogStreamName('$LATEST'),
      hostEnv: options.hostEnv,
      usePipe: true,
    });
    this.sandbox = plan.sandbox;
    this.sandboxEnv = plan.sandboxEnv;
    this.dispose = () => {
      plan.dispose();
      rmSync(slot, { recursive: true, force: true });
    };
    this.process = spawnRuntime(
      plan.command,
      plan.args,
      { cwd: slot, env: { ...plan.env, STAGECRAFT_SPARE: '1' }, apiPipe: true, pidNamespace: plan.pidNamespace },
      {
        stdout: (chunk) => this.output('stdout', chunk),
        stderr: (chunk) => this.output('stderr', chunk),
        spawnFailed: (error) => this.owner?.spawnFailed(error),
        closed: (code, signal) => {
          this.gone = true;
          if (this.owner === undefined) this.dispose();
          this.owner?.closed(code, signal);
        },
      },
    );
  }

  /** Boots a spare for functions like `like` (same spareKey), its slot under `options.slotRoot`. */
  static start(like: FunctionSpec, options: SpareOptions): SpareRuntime | undefined {
    const key = spareKey(like);
    if (key === undefined) return undefined;
    mkdirSync(options.slotRoot, { recursive: true });
    sweepSlots(options.slotRoot);
    const slot = mkdtempSync(join(options.slotRoot, `${SLOT_PREFIX}${process.pid}-`));
    return new SpareRuntime(key, slot, like, options);
  }

  /** Still running and not adopted. */
  get available(): boolean {
    return !this.gone && this.owner === undefined;
  }

  /**
   * Hands the process to an execution environment: `codeDir` linked into the slot, `env` (built
   * for codeDir = the slot) sent down the pipe. From now on the owner gets its output and its end,
   * and cleans up after it with `release`.
   */
  adopt(codeDir: string, env: Record<string, string>, owner: RuntimeProcessEvents, marker: string): RuntimeProcess {
    if (!this.available) {
      throw new StagecraftError('INVOKE_FAILED', 'The spare runtime process is gone or already taken.', {
        hint: 'Start the environment without it; the host boots the next spare.',
      });
    }
    linkTree(codeDir, this.slot);
    this.owner = owner;
    for (const [stream, chunk] of this.early.splice(0)) owner[stream](chunk);
    this.process.setMarker(marker);
    this.process.apiPipe?.write(encodeFrame({ id: 0, status: 200, headers: {} }, JSON.stringify(env)));
    return this.process;
  }

  /** After the adopted process is gone: the slot and the sandbox's leftovers go. */
  release(): void {
    this.dispose();
  }

  /** A spare nobody adopted: stopped; its slot goes once it has exited. */
  stop(): Promise<void> {
    this.process.kill();
    return this.process.closed;
  }

  private output(stream: 'stdout' | 'stderr', chunk: string): void {
    if (this.owner === undefined) this.early.push([stream, chunk]);
    else this.owner[stream](chunk);
  }
}

/** The code's files hard-linked into the slot (copied where a link cannot be made: another file system). */
function linkTree(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(target);
      linkTree(source, target);
    } else if (entry.isSymbolicLink()) {
      symlinkSync(readlinkSync(source), target);
    } else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

/** Removes the slots of Stagecraft processes that are gone (killed before they could clean up). */
function sweepSlots(root: string): void {
  for (const name of readdirSync(root)) {
    if (!name.startsWith(SLOT_PREFIX)) continue;
    const pid = Number(name.slice(SLOT_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || running(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
