/**
 * The `context` and `callback` a handler receives, with the legacy `done`/`succeed`/`fail` and
 * `callbackWaitsForEmptyEventLoop`. Semantics follow AWS's runtime (CallbackContext.js in
 * aws-lambda-nodejs-runtime-interface-client): only the first completion counts; a callback's
 * result waits for the event loop to empty unless the handler turned that off.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
import { toRuntimeResponse } from './errors.mjs';
import { logError } from './console-patch.mjs';

/**
 * @param {object} deps
 * @param {ReturnType<typeof import('./runtime-client.mjs').createRuntimeClient>} deps.client
 * @param {string} deps.requestId
 * @param {() => void} deps.scheduleNext starts the next iteration of the invoke loop
 * @param {(listener: () => void) => void} deps.onEmptyEventLoop replaces the `beforeExit` action
 * @param {(error: unknown) => void} deps.fatal what to do when the Runtime API is gone
 */
export function createCallbackContext({ client, requestId, scheduleNext, onEmptyEventLoop, fatal }) {
  let waitForEmptyEventLoop = true;
  let reported = false;
  let finished = false;

  const postError = (error) => {
    logError('Invoke Error', error);
    client.postError(requestId, toRuntimeResponse(error)).then(scheduleNext, fatal);
  };
  const complete = (result) => {
    if (reported) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    reported = true;
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch {
      postError(new Error('Unable to stringify response body'));
      return;
    }
    client.postResponse(requestId, body).then(scheduleNext, fatal);
  };

  const once =
    (fn) =>
    (...args) => {
      if (finished) return;
      finished = true;
      fn(...args);
    };

  const callback = once((error, result) => {
    onEmptyEventLoop(() => {});
    if (error !== undefined && error !== null) return postError(error);
    if (!waitForEmptyEventLoop) return complete(result);
    // Like AWS: the result goes out only once the handler's pending work has drained.
    onEmptyEventLoop(() => setImmediate(() => complete(result)));
  });
  const done = (error, result) => {
    onEmptyEventLoop(() => {});
    if (error !== undefined && error !== null) return postError(error);
    complete(result);
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    done: once(done),
    succeed: once((result) => done(null, result)),
    fail: once((error) => done(error === undefined || error === null ? 'handled' : error, null)),
  };
  /** Marks the invocation answered by the runtime itself (the empty-event-loop fallback). */
  const markReported = () => {
    reported = true;
  };
  return { callback, context, markReported };
}

/**
 * Adds what Lambda tells the runtime about this invocation (headers) and the function
 * (environment) to the callback context.
 * @param {object} context from createCallbackContext
 * @param {import('node:http').IncomingHttpHeaders} headers of the `next` answer
 */
export function attachInvokeData(context, headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  const env = process.env;
  return Object.assign(context, {
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context']),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity']),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    // A string, as on AWS: it comes straight from the environment.
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
  });
}

function parseJsonHeader(value) {
  return typeof value === 'string' && value !== '' ? JSON.parse(value) : undefined;
}
