/**
 * Finds and loads the handler named by `_HANDLER` (`src/api.handler` → module `src/api` under the
 * task root, export `handler`), trying files in the order AWS's Node runtime does: the bare name,
 * `.js` (CommonJS or ESM by the nearest package.json), `.mjs`, `.cjs`, then Node resolution.
 * Failures carry AWS's error types, so init errors read the same here as in the cloud.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandlerNotFound, ImportModuleError, MalformedHandlerName, UserCodeSyntaxError } from './errors.mjs';

const require = createRequire(import.meta.url);

/**
 * @param {string} taskRoot `LAMBDA_TASK_ROOT`
 * @param {string} fullHandler `_HANDLER`
 * @returns {Promise<Function>}
 */
export async function loadHandler(taskRoot, fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const moduleAndExport = path.basename(fullHandler);
  const moduleRoot = fullHandler.slice(0, fullHandler.length - moduleAndExport.length);
  const match = /^([^.]*)\.(.*)$/.exec(moduleAndExport);
  if (match === null) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, exportPath] = match;

  const userModule = await loadModule(taskRoot, moduleRoot, moduleName);
  const handler = exportPath.split('.').reduce((value, key) => value?.[key], userModule);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

async function loadModule(taskRoot, moduleRoot, moduleName) {
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  const typeModule = nearestPackageIsModule(path.dirname(base), path.resolve(taskRoot));
  const load = (file, how) => (how === 'import' ? import(pathToFileURL(file).href) : require(file));
  const candidates = [
    [base, 'require'],
    [`${base}.js`, typeModule ? 'import' : 'require'],
    [`${base}.mjs`, 'import'],
    [`${base}.cjs`, 'require'],
  ];
  try {
    for (const [file, how] of candidates) {
      if (existsSync(file)) return await load(file, how);
    }
    return require(require.resolve(moduleName, { paths: [taskRoot, path.join(taskRoot, moduleRoot)] }));
  } catch (error) {
    if (error instanceof SyntaxError) {
      const wrapped = new UserCodeSyntaxError(String(error));
      wrapped.stack = error.stack;
      throw wrapped;
    }
    // MODULE_NOT_FOUND from require, ERR_MODULE_NOT_FOUND from import (a missing package).
    if (error?.code === 'MODULE_NOT_FOUND' || error?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new ImportModuleError(String(error));
    }
    throw error;
  }
}

/**
 * Whether `.js` means ESM here: the nearest package.json says `"type": "module"`. The search stops
 * at the task root: on AWS nothing above /var/task belongs to the function, and here whatever
 * lies above the code folder (the host project) must not change how the function loads.
 */
function nearestPackageIsModule(folder, taskRoot) {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (dir.endsWith(`${path.sep}node_modules`)) return false;
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (dir === taskRoot || path.dirname(dir) === dir) return false;
  }
}
