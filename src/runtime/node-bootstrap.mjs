/**
 * Stagecraft's Node.js runtime: the process an execution environment starts for `nodejsNN.x`
 * functions. Like AWS's own runtime it talks to Lambda only through the Runtime API
 * (`AWS_LAMBDA_RUNTIME_API`), loads `_HANDLER` from `LAMBDA_TASK_ROOT`, and loops: next → run the
 * handler → post the response or the error. Node built-ins only; it runs from src/ under vitest
 * and from dist/ after the build.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html
 *
 * When Stagecraft's warm pool starts it with `STAGECRAFT_RUNTIME_API_FD`, the same Runtime API
 * exchanges travel over that inherited pipe instead of loopback HTTP (bootstrap/runtime-client.mjs);
 * the variable is removed before any user code loads, so the function never sees it. A spare
 * (`STAGECRAFT_SPARE`) first waits on that pipe for the function it is to run.
 */
import { createPipeRuntimeClient, createRuntimeClient } from './bootstrap/runtime-client.mjs';
import { loadHandler } from './bootstrap/load-handler.mjs';
import { logError, patchConsole } from './bootstrap/console-patch.mjs';
import { attachInvokeData, createCallbackContext } from './bootstrap/invoke-context.mjs';
import { NodeJsExit, UnhandledPromiseRejection, toRuntimeResponse } from './bootstrap/errors.mjs';

/** Exit codes AWS's runtime uses after reporting an uncaught exception / unhandled rejection. */
const EXIT_UNCAUGHT = 129;
const EXIT_UNHANDLED_REJECTION = 128;
/** How often to check that Stagecraft, our parent, is still there (see watchParent). */
const PARENT_CHECK_MS = 1000;

async function main() {
  const env = process.env;
  /** The Runtime API is gone only when Stagecraft is: nothing left to report to. */
  const fatal = () => process.exit(1);
  const client = runtimeClient(env, fatal);
  if (env.STAGECRAFT_SPARE !== undefined) await takeAssignment(client, env);
  const state = {
    /** @type {string | undefined} */ requestId: undefined,
    /** What to do when the event loop empties; replaced for every invocation. */
    onEmptyEventLoop: () => {},
    /** Where a crash is reported: init error until the first invocation, then that invocation. */
    report: (errorResponse) => client.postInitError(errorResponse),
  };
  const crash = (error, code) => {
    state
      .report(toRuntimeResponse(error))
      .then(() => client.flush())
      .finally(() => process.exit(code));
  };

  patchConsole(() => state.requestId, env.AWS_LAMBDA_LOG_LEVEL);
  watchParent();
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    crash(error, EXIT_UNCAUGHT);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    crash(error, EXIT_UNHANDLED_REJECTION);
  });
  // The runtime's way to see "the handler's work is done": Node is about to exit. This is what
  // callbackWaitsForEmptyEventLoop waits for.
  // https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
  process.on('beforeExit', () => state.onEmptyEventLoop());

  let handler;
  try {
    handler = await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), env._HANDLER ?? '');
  } catch (error) {
    logError('Uncaught Exception', error);
    crash(error, EXIT_UNCAUGHT);
    return;
  }
  // AWS decides by the declared function kind, not by what a call returns.
  const isAsync = handler.constructor?.name === 'AsyncFunction';

  const scheduleNext = () => setImmediate(() => handleOnce().catch(fatal));

  async function handleOnce() {
    const next = await client.next();
    const requestId = String(next.headers['lambda-runtime-aws-request-id']);
    state.requestId = requestId;
    state.report = (errorResponse) => client.postError(requestId, errorResponse);
    const traceId = next.headers['lambda-runtime-trace-id'];
    if (typeof traceId === 'string') env._X_AMZN_TRACE_ID = traceId;
    else delete env._X_AMZN_TRACE_ID;

    const onEmptyEventLoop = (listener) => {
      state.onEmptyEventLoop = listener;
    };
    const { callback, context, markReported } = createCallbackContext({
      client,
      requestId,
      scheduleNext,
      onEmptyEventLoop,
      fatal,
    });
    // Nothing answered and nothing left to run: an async handler's promise can never settle
    // (AWS reports Runtime.NodeJsExit); any other handler that never answered returns null.
    onEmptyEventLoop(() => {
      markReported();
      onEmptyEventLoop(() => {});
      if (isAsync) {
        const error = new NodeJsExit();
        logError('Invoke Error', error);
        client.postError(requestId, toRuntimeResponse(error)).then(scheduleNext, fatal);
      } else {
        client.postResponse(requestId, 'null').then(scheduleNext, fatal);
      }
    });

    try {
      const result = handler(JSON.parse(next.body), attachInvokeData(context, next.headers), callback);
      if (typeof result?.then === 'function') {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (error) {
      callback(error);
    }
  }

  scheduleNext();
}

/** The pipe when Stagecraft passed one (and the variable gone from the function's sight), else HTTP. */
function runtimeClient(env, fatal) {
  const fd = env.STAGECRAFT_RUNTIME_API_FD;
  delete env.STAGECRAFT_RUNTIME_API_FD;
  if (fd !== undefined && /^\d+$/.test(fd)) return createPipeRuntimeClient(Number(fd), fatal);
  return createRuntimeClient(env.AWS_LAMBDA_RUNTIME_API ?? '');
}

/**
 * A spare (spare-runtime.ts) booted before it had a function: it waits for the variables of the
 * one it now runs and takes them as its whole environment, before any user code loads. What the
 * spare started with is nobody's: no function's variables are lost or left over.
 */
async function takeAssignment(client, env) {
  delete env.STAGECRAFT_SPARE;
  const assigned = JSON.parse((await client.assignment()).body);
  for (const name of Object.keys(env)) if (!(name in assigned)) delete env[name];
  Object.assign(env, assigned);
}

/**
 * If Stagecraft dies without stopping us (SIGKILL, a crash), we are re-parented: exit rather than
 * linger. The timer is unref'd so it never keeps the event loop — and so `beforeExit` — waiting.
 */
function watchParent() {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, PARENT_CHECK_MS).unref();
}

await main();
