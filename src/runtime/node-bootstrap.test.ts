// The Node bootstrap as a handler sees it: real runtime processes on the host's Node, driven over
// the real Runtime API — on loopback HTTP and over the pipe — with the same results either way.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/wait.js';
import { ExecutionEnvironment, invokeOnce, type FunctionSpec, type InvokeOutcome } from './index.js';

const NODE_CODE = fileURLToPath(new URL('../../test/fixtures/runtime/node', import.meta.url));
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function spec(handler: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    functionName: 'shop-api-dev',
    version: '7',
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-api-dev:live',
    codeDir: NODE_CODE,
    handler,
    runtime: 'nodejs22.x',
    memoryMb: 128,
    timeoutSec: 3,
    environment: {},
    region: 'us-east-1',
    ...overrides,
  };
}

function payloadOf(outcome: InvokeOutcome): unknown {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.error)}`);
  return JSON.parse(outcome.payload);
}

function errorOf(outcome: InvokeOutcome) {
  if (outcome.ok) throw new Error(`expected an error, got ${outcome.payload}`);
  return outcome;
}
// Every behaviour holds over both carriers of the Runtime API: loopback HTTP and the pipe.
describe.each(['http', 'pipe'] as const)('over %s', (transport) => {
  const run = (handler: string, event: unknown = {}, overrides: Partial<FunctionSpec> = {}): Promise<InvokeOutcome> =>
    invokeOnce(spec(handler, overrides), JSON.stringify(event), { transport });

  describe('node bootstrap: results', () => {
    it('returns what an async handler resolves to, as JSON text', async () => {
      const outcome = await run('handlers.asyncObject', { id: 'o-1' });
      expect(payloadOf(outcome)).toEqual({ echo: { id: 'o-1' }, requestId: outcome.requestId });
      expect(outcome.requestId).toMatch(REQUEST_ID);
    });

    it('returns what a callback handler passes to callback', async () => {
      expect(payloadOf(await run('handlers.callbackResult'))).toEqual({ via: 'callback' });
    });

    it('loads CommonJS handlers and supports context.succeed / context.fail', async () => {
      expect(payloadOf(await run('legacy.handler', { n: 1 }))).toEqual({ style: 'cjs', event: { n: 1 } });
      expect(payloadOf(await run('legacy.succeeds'))).toEqual({ style: 'context.succeed' });
      expect(errorOf(await run('legacy.fails')).error).toMatchObject({
        errorType: 'RangeError',
        errorMessage: 'context.fail',
      });
    });

    it('answers null for a plain function that returns without calling back, as AWS does', async () => {
      const outcome = await run('handlers.syncReturn');
      expect(outcome.ok && outcome.payload).toBe('null');
    });

    it('holds a callback result until the event loop is empty (callbackWaitsForEmptyEventLoop)', async () => {
      const outcome = await run('handlers.callbackWaits', { delayMs: 400 });
      expect(payloadOf(outcome)).toEqual({ waited: true });
      expect(outcome.durationMs).toBeGreaterThanOrEqual(390);
      // The timer ran inside the invocation: its line is logged before END.
      const timerLine = outcome.logs.findIndex((line) => line.endsWith('\ttimer done'));
      expect(timerLine).toBeGreaterThan(0);
      expect(timerLine).toBeLessThan(outcome.logs.findIndex((line) => line.startsWith('END ')));
    });

    it('answers at once when the handler sets callbackWaitsForEmptyEventLoop = false', async () => {
      const outcome = await run('handlers.callbackNoWait', { delayMs: 1500 });
      expect(payloadOf(outcome)).toEqual({ waited: false });
      expect(outcome.durationMs).toBeLessThan(1000);
      expect(outcome.logs.some((line) => line.includes('late timer'))).toBe(false);
    });
  });

  describe('node bootstrap: context and environment', () => {
    it('gives the handler the Lambda context of this invocation', async () => {
      const aliasArn = 'arn:aws:lambda:us-east-1:000000000000:function:shop-api-dev:smoke';
      const outcome = await invokeOnce(spec('handlers.context'), '{}', {
        invokedArn: aliasArn,
        requestId: 'req-0001',
        clientContext: { client: { app: 'ios' } },
        identity: { cognitoIdentityId: 'id-1' },
        transport,
      });
      const context = payloadOf(outcome) as Record<string, unknown>;
      expect(context).toMatchObject({
        functionName: 'shop-api-dev',
        functionVersion: '7',
        invokedFunctionArn: aliasArn,
        memoryLimitInMB: '128',
        logGroupName: '/aws/lambda/shop-api-dev',
        awsRequestId: 'req-0001',
        callbackWaitsForEmptyEventLoop: true,
        clientContext: { client: { app: 'ios' } },
        identity: { cognitoIdentityId: 'id-1' },
        legacy: ['function', 'function', 'function'],
      });
      expect(context['logStreamName']).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[7\][0-9a-f]{32}$/);
      expect(context['traceId']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
      const [first, second] = context['remaining'] as [number, number];
      expect(first).toBeLessThanOrEqual(3000);
      expect(first).toBeGreaterThan(2000);
      expect(second).toBeLessThan(first);
    });

    it('sets the Lambda variables, keeps the reserved ones, and lets no host secret through', async () => {
      const hostEnv = { ...process.env, STAGECRAFT_TEST_HOST_SECRET: 's3cr3t', PATH: process.env['PATH'] ?? '' };
      const outcome = await invokeOnce(
        spec('handlers.environment', { environment: { STAGE: 'dev', AWS_REGION: 'eu-west-1', TZ: 'Europe/Paris' } }),
        '{}',
        { hostEnv, transport },
      );
      const env = payloadOf(outcome) as Record<string, unknown>;
      expect(env).toMatchObject({
        STAGE: 'dev',
        TZ: 'Europe/Paris',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: 'shop-api-dev',
        AWS_LAMBDA_FUNCTION_VERSION: '7',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/shop-api-dev',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        LAMBDA_TASK_ROOT: NODE_CODE,
        _HANDLER: 'handlers.environment',
        LANG: 'en_US.UTF-8',
        cwd: NODE_CODE,
      });
      expect(env['AWS_LAMBDA_RUNTIME_API']).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(env['AWS_LAMBDA_LOG_STREAM_NAME']).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[7\][0-9a-f]{32}$/);
      expect(env['STAGECRAFT_TEST_HOST_SECRET']).toBeUndefined();
      // The pipe's descriptor is Stagecraft's business: the bootstrap removes it before user code loads.
      expect(env['STAGECRAFT_RUNTIME_API_FD']).toBeUndefined();
      expect(env['argv']).toEqual(expect.arrayContaining(['--max-old-space-size=116', '--enable-source-maps']));
    });

    it('writes console output in Lambda format, init output before START', async () => {
      const outcome = await run('handlers.logs');
      const id = outcome.requestId;
      const stamp = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
      const at = (pattern: string) => outcome.logs.findIndex((line) => new RegExp(`^${pattern}$`).test(line));
      const start = at(`START RequestId: ${id} Version: 7`);
      expect(at(`${stamp}\tundefined\tINFO\tmodule loaded`)).toBe(0);
      expect(start).toBe(1);
      for (const pattern of [
        `${stamp}\t${id}\tINFO\thello world \\{ a: 1 \\}`,
        `${stamp}\t${id}\tINFO\tinfo line`,
        `${stamp}\t${id}\tWARN\twarn line`,
        `${stamp}\t${id}\tERROR\terror line`,
        `${stamp}\t${id}\tDEBUG\tdebug line`,
        `${stamp}\t${id}\tINFO\ttwo\rlines`,
        'raw stdout',
        'raw stderr',
      ]) {
        expect(at(pattern), pattern).toBeGreaterThan(start);
      }
      expect(outcome.logs.at(-2)).toBe(`END RequestId: ${id}`);
      expect(outcome.logs.at(-1)).toMatch(
        new RegExp(
          `^REPORT RequestId: ${id}\tDuration: \\d+\\.\\d{2} ms\tBilled Duration: \\d+ ms\tMemory Size: 128 MB\tMax Memory Used: \\d+ MB\tInit Duration: \\d+\\.\\d{2} ms$`,
        ),
      );
    });
  });

  describe('node bootstrap: errors', () => {
    it('reports a thrown error with its type, message and trace', async () => {
      const outcome = errorOf(await run('handlers.throws'));
      expect(outcome.cause).toBe('handler');
      expect(outcome.error.errorType).toBe('TypeError');
      expect(outcome.error.errorMessage).toBe('bad input');
      expect(outcome.error.trace?.[0]).toBe('TypeError: bad input');
      expect(outcome.error.trace?.some((line) => line.includes('handlers.mjs'))).toBe(true);
      expect(outcome.logs.some((line) => line.includes('\tERROR\tInvoke Error \t{"errorType":"TypeError"'))).toBe(true);
    });

    it('reports an error passed to the callback', async () => {
      const outcome = errorOf(await run('handlers.callbackError'));
      expect(outcome.error).toMatchObject({ errorType: 'Error', errorMessage: 'callback failed' });
    });

    it('reports Runtime.NodeJsExit when an async handler never settles and nothing is left to run', async () => {
      const outcome = errorOf(await run('handlers.neverSettles'));
      expect(outcome.cause).toBe('handler');
      expect(outcome.error.errorType).toBe('Runtime.NodeJsExit');
      expect(outcome.error.errorMessage).toMatch(
        /^The Lambda runtime client detected an unexpected Node\.js exit code/,
      );
      expect(outcome.durationMs).toBeLessThan(1000);
    });

    it('reports an unhandled rejection as Runtime.UnhandledPromiseRejection, then the runtime exits', async () => {
      const environment = new ExecutionEnvironment(spec('handlers.rejectsUnhandled'), { transport });
      try {
        const outcome = errorOf(await environment.invoke('{}'));
        expect(outcome.error).toMatchObject({
          errorType: 'Runtime.UnhandledPromiseRejection',
          errorMessage: 'Error: nobody caught me',
        });
        await until(() => environment.state === 'dead');
      } finally {
        await environment.stop();
      }
    });

    it('reports an exception thrown outside the handler promise, then the runtime exits', async () => {
      const environment = new ExecutionEnvironment(spec('handlers.throwsFromTimer'), { transport });
      try {
        const outcome = errorOf(await environment.invoke('{}'));
        expect(outcome.error).toMatchObject({ errorType: 'Error', errorMessage: 'thrown from a timer' });
        await until(() => environment.state === 'dead');
      } finally {
        await environment.stop();
      }
    });

    it('refuses a response over 6 MB as Function.ResponseSizeTooLarge', async () => {
      const outcome = errorOf(await run('handlers.tooLarge'));
      expect(outcome.error.errorType).toBe('Function.ResponseSizeTooLarge');
    });
  });

  describe('node bootstrap: init errors', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'stagecraft-runtime-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    it('reports a syntax error as Runtime.UserCodeSyntaxError', async () => {
      writeFileSync(join(scratch, 'broken.mjs'), 'export const handler = async () => {\n');
      const outcome = errorOf(await run('broken.handler', {}, { codeDir: scratch }));
      expect(outcome.cause).toBe('init');
      expect(outcome.error.errorType).toBe('Runtime.UserCodeSyntaxError');
      expect(outcome.error.errorMessage).toMatch(/^SyntaxError: /);
    });

    it('reports a missing module or package as Runtime.ImportModuleError', async () => {
      const noFile = errorOf(await run('nowhere.handler'));
      expect(noFile.error.errorType).toBe('Runtime.ImportModuleError');
      expect(noFile.error.errorMessage).toMatch(/^Error: Cannot find module 'nowhere'/);
      const noPackage = errorOf(await run('missing-package.handler'));
      expect(noPackage.error.errorType).toBe('Runtime.ImportModuleError');
      expect(noPackage.error.errorMessage).toContain("Cannot find package 'stagecraft-no-such-package'");
    });

    it('reports a missing or non-function export as Runtime.HandlerNotFound', async () => {
      expect(errorOf(await run('handlers.nope')).error).toMatchObject({
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: 'handlers.nope is undefined or not exported',
      });
      expect(errorOf(await run('handlers.notAFunction')).error).toMatchObject({
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: 'handlers.notAFunction is not a function',
      });
    });

    it('reports an error thrown while the module loads as that error, and the environment is dead', async () => {
      const environment = new ExecutionEnvironment(spec('init-throws.handler'), { transport });
      try {
        await environment.start();
        expect(environment.state).toBe('dead');
        const outcome = errorOf(await environment.invoke('{}'));
        expect(outcome).toMatchObject({
          cause: 'init',
          error: { errorType: 'RangeError', errorMessage: 'configuration is missing' },
        });
        expect(outcome.initDurationMs).toBeGreaterThan(0);
        expect(outcome.logs.at(-1)).toMatch(/\tStatus: error\tError Type: RangeError$/);
      } finally {
        await environment.stop();
      }
    });
  });
});
