/**
 * Lambda's Node runtime replaces `console` so every line carries a timestamp, the request id and
 * a level, tab-separated: `2024-01-01T00:00:00.000Z\t<requestId>\tINFO\t<message>`. Newlines in
 * a message become `\r`, so one call stays one log event. Before the first invocation the
 * request id prints as `undefined`, as it does on AWS.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
 */
import util from 'node:util';
import { intoError, toFormatted } from './errors.mjs';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/**
 * @param {() => string | undefined} currentRequestId
 * @param {string | undefined} minimumLevel `AWS_LAMBDA_LOG_LEVEL`, when log-level filtering is on
 */
export function patchConsole(currentRequestId, minimumLevel) {
  const threshold = Math.max(0, LEVELS.indexOf(String(minimumLevel ?? 'TRACE').toUpperCase()));
  const writer = (level) => {
    if (LEVELS.indexOf(level) < threshold) return () => {};
    return (message, ...params) => {
      const text = util.format(message, ...params).replace(/\n/g, '\r');
      // A synchronous write on Linux pipes: the line is out before the result is posted.
      process.stdout.write(`${new Date().toISOString()}\t${currentRequestId()}\t${level}\t${text}\n`);
    };
  };
  console.trace = writer('TRACE');
  console.debug = writer('DEBUG');
  console.info = writer('INFO');
  console.log = console.info;
  console.warn = writer('WARN');
  console.error = writer('ERROR');
  /** @type {any} */ (console).fatal = writer('FATAL');
}

/** How the runtime logs an error it reports: `<prefix> \t{"errorType":…}` at ERROR level. */
export function logError(prefix, error) {
  console.error(prefix, toFormatted(intoError(error)));
}
