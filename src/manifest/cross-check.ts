/**
 * Checks that need the whole manifest: references between functions, resources, environments
 * and smoke tests, and the names the platform will derive from them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { layered } from './config.js';
import { environmentSizeProblem } from './environment-size.js';
import type { Target } from './fields.js';
import type { KeyPath } from './positions.js';
import type { Manifest } from './schema.js';
import { instanceName, smokeAliasName } from './names.js';
import { pythonHandlerProblem } from './python-handler.js';

export interface Problem {
  path: KeyPath;
  message: string;
  atKey?: boolean;
}

/** Lambda's function name limit (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html). */
const MAX_FUNCTION_NAME = 64;
const MAX_ALIAS_NAME = 128;
const HANDLER_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

export function crossCheck(manifest: Manifest, appDir: string | undefined): Problem[] {
  const problems: Problem[] = [];
  const { queues, topics, tables } = manifest.resources;
  const known = { queue: queues, topic: topics, function: manifest.functions, table: tables };
  const checkTarget = (value: Target, path: KeyPath) => {
    if (!(value.name in known[value.type])) {
      problems.push({
        path,
        message: `${value.type}:${value.name} does not exist; declared ${value.type === 'function' ? 'functions' : `${value.type}s`}: ${namesOf(known[value.type])}`,
      });
    }
  };

  const seenEnvironments = new Map<string, number>();
  manifest.environments.forEach((environment, index) => {
    const first = seenEnvironments.get(environment.name);
    if (first !== undefined) {
      problems.push({
        path: ['environments', index, 'name'],
        message: `environment "${environment.name}" is declared twice (first at environments[${first}]); names must be unique`,
      });
    } else {
      seenEnvironments.set(environment.name, index);
    }
  });

  if (manifest.ephemeral && !seenEnvironments.has(manifest.ephemeral.from)) {
    problems.push({
      path: ['ephemeral', 'from'],
      message: `environment "${manifest.ephemeral.from}" does not exist; environments: ${[...seenEnvironments.keys()].join(', ')}`,
    });
  }

  const routes = new Map<string, string>();
  for (const [fnName, fn] of Object.entries(manifest.functions)) {
    const runtime = fn.runtime ?? manifest.runtime;
    const base = ['functions', fnName];
    if (runtime.startsWith('provided') && fn.code === undefined) {
      problems.push({
        path: base,
        message: `runtime ${runtime} needs \`code\`: a folder holding an executable \`bootstrap\``,
      });
    }
    const python = runtime.startsWith('python');
    if (runtime.startsWith('nodejs') && fn.code !== undefined) {
      problems.push({
        path: [...base, 'code'],
        message: `\`code\` is for provided and python runtimes; ${runtime} functions are bundled from their handler`,
        atKey: true,
      });
    }
    if (!python && (fn.package !== undefined || fn.requirements !== undefined)) {
      const key = fn.package !== undefined ? 'package' : 'requirements';
      problems.push({
        path: [...base, key],
        message: `\`${key}\` is for python runtimes; ${runtime} functions do not use it`,
        atKey: true,
      });
    }
    if (python && appDir !== undefined) {
      const problem = pythonHandlerProblem(join(appDir, fn.code ?? '.'), fn.code ?? '.', fn.handler);
      if (problem !== undefined) problems.push({ path: [...base, 'handler'], message: problem });
      if (fn.requirements !== undefined && !existsSync(join(appDir, fn.requirements))) {
        problems.push({
          path: [...base, 'requirements'],
          message: `${fn.requirements} does not exist; name a pip requirements file relative to the app`,
        });
      }
    }
    if (appDir !== undefined && fn.code !== undefined && !python && !existsSync(join(appDir, fn.code, 'bootstrap'))) {
      problems.push({
        path: [...base, 'code'],
        message: `${join(fn.code, 'bootstrap')} does not exist; a provided runtime starts the executable \`bootstrap\` in its code folder`,
      });
    }
    if (appDir !== undefined && runtime.startsWith('nodejs')) {
      const file = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
      if (!HANDLER_EXTENSIONS.some((extension) => existsSync(join(appDir, file + extension)))) {
        problems.push({
          path: [...base, 'handler'],
          message: `no handler file ${file}{${HANDLER_EXTENSIONS.join(',')}} in the app folder`,
        });
      }
    }
    for (const environment of manifest.strategy === 'multi-stack'
      ? manifest.environments
      : manifest.environments.slice(0, 1)) {
      const instance = instanceName(manifest, fnName, environment.name);
      if (instance.length > MAX_FUNCTION_NAME) {
        problems.push({
          path: base,
          message: `the function instance name "${instance}" is longer than Lambda's ${MAX_FUNCTION_NAME} characters; shorten the app, function or environment name`,
          atKey: true,
        });
      }
    }
    for (const environment of manifest.environments) {
      // Literal config as written (references not yet resolved): what deploy will at least send.
      const raw = Object.fromEntries(
        [...layered(manifest, environment.name, fnName)].map(([key, source]) => [key, source.raw]),
      );
      const tooLarge = environmentSizeProblem(raw);
      if (tooLarge !== undefined)
        problems.push({ path: [...base, 'config'], message: `in environment ${environment.name}: ${tooLarge}` });
    }
    fn.events.forEach((event, index) => {
      const path = [...base, 'events', index, event.type];
      if (event.type === 'queue') checkTarget({ type: 'queue', name: event.name }, path);
      if (event.type === 'topic') checkTarget({ type: 'topic', name: event.name }, path);
      if (event.type === 'http') {
        const route = `${event.method} ${event.path}`;
        const owner = routes.get(route);
        if (owner !== undefined)
          problems.push({
            path,
            message: `route ${route} is already served by function ${owner}; a route has one function`,
          });
        else routes.set(route, fnName);
      }
    });
    if (fn.destinations?.onSuccess) checkTarget(fn.destinations.onSuccess, [...base, 'destinations', 'onSuccess']);
    if (fn.destinations?.onFailure) checkTarget(fn.destinations.onFailure, [...base, 'destinations', 'onFailure']);
  }

  for (const [queueName, queue] of Object.entries(queues)) {
    if (queue.fifo === true) {
      problems.push({
        path: ['resources', 'queues', queueName, 'fifo'],
        message:
          `queue ${queueName} asks for FIFO, which Stagecraft does not provide yet (no MessageGroupId ordering or deduplication, locally or on aws); ` +
          'remove `fifo: true` to use a standard queue (at-least-once, best-effort order)',
      });
    }
    const path = ['resources', 'queues', queueName, 'deadLetter'];
    if (queue.deadLetter === undefined) continue;
    if (queue.deadLetter === queueName)
      problems.push({ path, message: `queue ${queueName} cannot be its own dead-letter queue` });
    else checkTarget({ type: 'queue', name: queue.deadLetter }, path);
  }
  for (const [topicName, topic] of Object.entries(topics)) {
    topic.subscribers.forEach((subscriber, index) =>
      checkTarget(subscriber, ['resources', 'topics', topicName, 'subscribers', index]),
    );
  }

  if (manifest.strategy === 'single-stack') {
    for (const [index, environment] of manifest.environments.entries()) {
      if (smokeAliasName(manifest, environment.name).length > MAX_ALIAS_NAME) {
        problems.push({
          path: ['environments', index, 'name'],
          message: `environment name too long for a Lambda alias (${MAX_ALIAS_NAME} characters)`,
        });
      }
    }
  }

  manifest.smoke.forEach((test, index) => {
    if (test.invoke !== undefined && !(test.invoke in manifest.functions)) {
      problems.push({
        path: ['smoke', index, 'invoke'],
        message: `function ${test.invoke} does not exist; declared functions: ${namesOf(manifest.functions)}`,
      });
    }
  });

  if (manifest.state?.backend === 'dynamodb' && manifest.state.table === undefined) {
    problems.push({
      path: ['state'],
      message: 'the dynamodb state backend needs `table`: the DynamoDB table that holds the ledger and the lock',
    });
  }
  if (manifest.ci?.branchEnvironments && manifest.ephemeral === undefined) {
    problems.push({
      path: ['ci', 'branchEnvironments'],
      message:
        'branch environments need `ephemeral: { from: dev, ttl: 72h }`: the environment each one copies, and how long it lives',
    });
  }
  return problems;
}

function namesOf(record: Record<string, unknown>): string {
  const names = Object.keys(record);
  return names.length === 0 ? '(none)' : names.join(', ');
}
