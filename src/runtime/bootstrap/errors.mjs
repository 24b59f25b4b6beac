/**
 * The error types AWS's Node.js runtime reports, and the two ways it turns an error into JSON:
 * the document posted to the Runtime API and the text written to the log.
 * Behaviour follows aws-lambda-nodejs-runtime-interface-client (src/Errors.js), the runtime
 * behind the managed nodejs runtimes: https://github.com/aws/aws-lambda-nodejs-runtime-interface-client
 */
import util from 'node:util';

/** Names every runtime error `Runtime.<ClassName>`, as AWS does, so it shows as the errorType. */
function runtimeError(name) {
  const ErrorClass = class extends Error {};
  Object.defineProperty(ErrorClass, 'name', { value: name });
  ErrorClass.prototype.name = `Runtime.${name}`;
  return ErrorClass;
}

export const ImportModuleError = runtimeError('ImportModuleError');
export const HandlerNotFound = runtimeError('HandlerNotFound');
export const MalformedHandlerName = runtimeError('MalformedHandlerName');
export const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');

/**
 * Posted when the event loop empties while an async handler's promise is still pending: Node
 * would exit, so the runtime reports this instead of waiting for the timeout.
 */
export class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
NodeJsExit.prototype.name = 'Runtime.NodeJsExit';

export class UnhandledPromiseRejection extends Error {
  /** @param {unknown} reason @param {Promise<unknown>} promise */
  constructor(reason, promise) {
    // AWS passes the reason to Error(), so the message is its string form ("Error: boom").
    super(String(reason));
    this.reason = reason;
    this.promise = promise;
  }
}
UnhandledPromiseRejection.prototype.name = 'Runtime.UnhandledPromiseRejection';

/** @param {unknown} value */
function looksLikeError(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.name === 'string' &&
    typeof value.message === 'string' &&
    typeof value.stack === 'string'
  );
}

/** @param {unknown} value @returns {Error} */
export function intoError(value) {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * The error document for `/invocation/{id}/error` and `/init/error`. Non-errors (e.g.
 * `callback('oops')`) keep their `typeof` as the type, as AWS's runtime does.
 * @param {unknown} error
 * @returns {{errorType: string, errorMessage: string, trace: string[]}}
 */
export function toRuntimeResponse(error) {
  try {
    if (util.types.isNativeError(error) || looksLikeError(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: String(error.stack).split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
}

/**
 * The log form: a tab, then the error as JSON with its non-enumerable name, message and stack
 * made visible next to any properties the code put on it.
 * @param {unknown} error
 */
export function toFormatted(error) {
  const withProperties = (_key, value) => {
    if (!(value instanceof Error)) return value;
    const shown = { errorType: value.name, errorMessage: value.message, code: value.code, ...value };
    if (typeof value.stack === 'string') shown.stack = value.stack.split('\n');
    return shown;
  };
  try {
    return '\t' + JSON.stringify(error, withProperties);
  } catch {
    return '\t' + JSON.stringify(toRuntimeResponse(error));
  }
}
