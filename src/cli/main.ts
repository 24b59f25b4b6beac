#!/usr/bin/env node
/** The `stagecraft` command line: thin commands over the library, one file each. */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { EXIT } from '../errors.js';
import { registerApprove } from './commands/approve.js';
import { registerBuild } from './commands/build.js';
import { registerConfig } from './commands/config.js';
import { registerDeploy } from './commands/deploy.js';
import { registerDoctor } from './commands/doctor.js';
import { registerHistory } from './commands/history.js';
import { registerInit } from './commands/init.js';
import { registerInvoke } from './commands/invoke.js';
import { registerLogs } from './commands/logs.js';
import { registerPlan } from './commands/plan.js';
import { registerPromote } from './commands/promote.js';
import { registerRollback } from './commands/rollback.js';
import { registerSecret } from './commands/secret.js';
import { registerSend } from './commands/send.js';
import { registerStatus } from './commands/status.js';
import { registerSynth } from './commands/synth.js';
import { registerUp } from './commands/up.js';
import { registerValidate } from './commands/validate.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('stagecraft')
  .description('Build serverless functions once; promote the same release through every environment.')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const register of [registerInit, registerValidate, registerBuild, registerDeploy, registerPromote, registerApprove, registerRollback, registerStatus, registerHistory, registerInvoke, registerLogs, registerUp, registerSend, registerDoctor, registerConfig, registerSecret, registerSynth, registerPlan]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander has already printed its message; bad arguments are invalid input (exit 2).
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
  else throw error;
}
