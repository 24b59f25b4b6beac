#!/usr/bin/env node
/** The `stagecraft` command line: thin commands over the library, one file each. */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT } from '../errors.js';
import { EXIT_CODES_HELP } from './command.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('stagecraft')
  .description('Build serverless functions once; promote the same release through every environment.')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText('after', EXIT_CODES_HELP)
  .exitOverride();

/**
 * Every command, in the order help lists them; each module is loaded only when needed. A run of
 * one command loads that command's code alone — `up` starts faster without the others' — and
 * anything else (help, a typo, `--version`) loads them all.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  init: async () => (await import('./commands/init.js')).registerInit,
  validate: async () => (await import('./commands/validate.js')).registerValidate,
  build: async () => (await import('./commands/build.js')).registerBuild,
  deploy: async () => (await import('./commands/deploy.js')).registerDeploy,
  promote: async () => (await import('./commands/promote.js')).registerPromote,
  approve: async () => (await import('./commands/approve.js')).registerApprove,
  rollback: async () => (await import('./commands/rollback.js')).registerRollback,
  status: async () => (await import('./commands/status.js')).registerStatus,
  history: async () => (await import('./commands/history.js')).registerHistory,
  invoke: async () => (await import('./commands/invoke.js')).registerInvoke,
  logs: async () => (await import('./commands/logs.js')).registerLogs,
  up: async () => (await import('./commands/up.js')).registerUp,
  dev: async () => (await import('./commands/dev.js')).registerDev,
  dashboard: async () => (await import('./commands/dashboard.js')).registerDashboard,
  send: async () => (await import('./commands/send.js')).registerSend,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  config: async () => (await import('./commands/config.js')).registerConfig,
  diff: async () => (await import('./commands/diff.js')).registerDiff,
  prune: async () => (await import('./commands/prune.js')).registerPrune,
  destroy: async () => (await import('./commands/destroy.js')).registerDestroy,
  gc: async () => (await import('./commands/gc.js')).registerGc,
  secret: async () => (await import('./commands/secret.js')).registerSecret,
  synth: async () => (await import('./commands/synth.js')).registerSynth,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  ci: async () => (await import('./commands/ci.js')).registerCi,
  state: async () => (await import('./commands/state.js')).registerState,
};

const named = process.argv[2] ?? '';
// The runtime processes of `up`'s and `dev`'s first environments boot while their code loads.
const early = named === 'up' || named === 'dev' ? await import('./early-spares.js') : undefined;
early?.bootEarlySpares(process.argv.slice(3));
const one = Object.hasOwn(COMMANDS, named) ? COMMANDS[named] : undefined;
for (const register of await Promise.all((one ? [one] : Object.values(COMMANDS)).map((load) => load())))
  register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander has already printed its message; bad arguments are invalid input (exit 2).
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
  else throw error;
} finally {
  await early?.stopEarlySpares();
}
