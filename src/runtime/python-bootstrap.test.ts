// The Python bootstrap as a handler sees it: real interpreters driven over the real Runtime API,
// answering and failing the way AWS's Python runtime (awslambdaric) does.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExecutionEnvironment, invokeOnce, type FunctionSpec, type InvokeOutcome } from './index.js';

const PYTHON_CODE = fileURLToPath(new URL('../../test/fixtures/runtime/python', import.meta.url));
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function spec(handler: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    functionName: 'shop-report-dev',
    version: '4',
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-report-dev:live',
    codeDir: PYTHON_CODE,
    handler,
    runtime: 'python3.12',
    memoryMb: 128,
    timeoutSec: 3,
    environment: {},
    region: 'us-east-1',
    ...overrides,
  };
}

const run = (
  handler: string,
  event: unknown = {},
  overrides: Partial<FunctionSpec> = {},
  options = {},
): Promise<InvokeOutcome> => invokeOnce(spec(handler, overrides), JSON.stringify(event), options);

function payloadOf(outcome: InvokeOutcome): unknown {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.error)}`);
  return JSON.parse(outcome.payload);
}

function errorOf(outcome: InvokeOutcome) {
  if (outcome.ok) throw new Error(`expected an error, got ${outcome.payload}`);
  return outcome;
}

describe('python bootstrap: results and context', () => {
  it('returns the handler result as JSON; the module is imported once per environment', async () => {
    const environment = new ExecutionEnvironment(spec('handlers.echo'));
    try {
      const first = await environment.invoke(JSON.stringify({ id: 'o-1' }));
      const second = await environment.invoke(JSON.stringify({ id: 'o-2' }));
      expect(payloadOf(first)).toEqual({ echo: { id: 'o-1' }, requestId: first.requestId, imports: 1 });
      expect(payloadOf(second)).toEqual({ echo: { id: 'o-2' }, requestId: second.requestId, imports: 1 });
      expect(first.requestId).toMatch(REQUEST_ID);
      expect(first.initDurationMs).toBeGreaterThan(0);
      expect(second.initDurationMs).toBeUndefined();
      expect(first.logs.at(-1)).toMatch(/\tInit Duration: \d+\.\d\d ms$/);
    } finally {
      await environment.stop();
    }
  });

  it("gives the handler awslambdaric's context object", async () => {
    const outcome = await run(
      'handlers.context_fields',
      {},
      {},
      {
        identity: { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' },
        clientContext: { client: { installation_id: 'inst-1' }, custom: { k: 'v' } },
      },
    );
    const fields = payloadOf(outcome) as Record<string, unknown>;
    expect(fields).toMatchObject({
      aws_request_id: outcome.requestId,
      function_name: 'shop-report-dev',
      function_version: '4',
      invoked_function_arn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-report-dev:live',
      memory_limit_in_mb: '128',
      log_group_name: '/aws/lambda/shop-report-dev',
      identity: 'id-1',
      identity_pool: 'pool-1',
      client_installation: 'inst-1',
      custom: { k: 'v' },
      trace: 'Root=1-',
      execution_env: 'AWS_Lambda_python3.12',
      task_root: true,
      leaked: [],
    });
    expect(fields['log_stream_name']).toMatch(/^\d{4}\/\d\d\/\d\d\/\[4\][0-9a-f]{32}$/);
    expect(fields['remaining']).toBeGreaterThan(2000);
    expect(fields['remaining']).toBeLessThanOrEqual(3000);
  });

  it('imports a handler inside a package (pkg/mod.fn), serializes Decimal and None', async () => {
    expect(payloadOf(await run('pkg/mod.fn'))).toEqual({ from: 'pkg.mod' });
    expect(payloadOf(await run('handlers.money'))).toEqual({ price: 1.5 });
    const none = await run('handlers.none');
    expect(none.ok && none.payload).toBe('null');
  });

  it("writes print as it is and logging in AWS's [LEVEL]\\t<time>\\t<request id>\\t<message> format", async () => {
    const outcome = await run('handlers.logs');
    const id = outcome.requestId;
    const own = outcome.logs.slice(1, -2);
    expect(outcome.logs[0]).toBe(`START RequestId: ${id} Version: 4`);
    expect(own[0]).toBe('plain print');
    expect(own[1]).toMatch(
      new RegExp(`^\\[INFO\\]\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${id}\\tinfo line 1$`),
    );
    expect(own[2]).toMatch(new RegExp(`^\\[WARNING\\]\\t\\S+Z\\t${id}\\ttwo\\rlines$`));
    expect(own).toHaveLength(3);
    expect(outcome.logs.at(-2)).toBe(`END RequestId: ${id}`);
  });
});

describe('python bootstrap: errors as AWS reports them', () => {
  it("an exception: its type, message, the request id and the user's frames as a list", async () => {
    const outcome = errorOf(await run('handlers.raises', { n: 7 }));
    expect(outcome.cause).toBe('handler');
    expect(outcome.error).toMatchObject({
      errorType: 'ValueError',
      errorMessage: 'bad value 7',
      requestId: outcome.requestId,
    });
    expect(outcome.error.stackTrace).toHaveLength(1);
    expect(outcome.error.stackTrace?.[0]).toMatch(
      /^ {2}File ".*handlers\.py", line \d+, in raises\n {4}raise ValueError/,
    );
    const logged = outcome.logs.find((line) =>
      line.startsWith('[ERROR] ValueError: bad value 7\rTraceback (most recent call last):\r  File '),
    );
    expect(logged).toBeDefined();
  });

  it('a result that is not JSON: Runtime.MarshalError', async () => {
    const outcome = errorOf(await run('handlers.unmarshalable'));
    expect(outcome.error.errorType).toBe('Runtime.MarshalError');
    expect(outcome.error.errorMessage).toBe('Unable to marshal response: {1, 2} is not JSON serializable');
  });

  it('a missing function: Runtime.HandlerNotFound at the call, after a successful init', async () => {
    const outcome = errorOf(await run('handlers.nowhere'));
    expect(outcome.cause).toBe('handler');
    expect(outcome.error).toEqual({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: "Handler 'nowhere' missing on module 'handlers'",
      requestId: outcome.requestId,
      stackTrace: [],
    });
  });

  it('a missing module, an import that fails, a syntax error: init errors, every invocation answered with them', async () => {
    const missing = errorOf(await run('nothere.handler'));
    expect(missing.cause).toBe('init');
    expect(missing.error).toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Unable to import module 'nothere': No module named 'nothere'",
    });
    const dependency = errorOf(await run('imports_missing.handler'));
    expect(dependency.error.errorMessage).toBe(
      "Unable to import module 'imports_missing': No module named 'no_such_module_anywhere'",
    );
    const syntax = errorOf(await run('syntax_error.handler'));
    expect(syntax.error.errorType).toBe('Runtime.UserCodeSyntaxError');
    expect(syntax.error.errorMessage).toMatch(
      /^Syntax error in module 'syntax_error': (expected ':'|invalid syntax) \(syntax_error\.py, line 1\)$/,
    );
    expect(syntax.error.stackTrace?.[0]).toMatch(
      /^ {2}File ".*syntax_error\.py" Line 1\n {4}def handler\(event, context\)/,
    );
    const raised = errorOf(await run('init_raises.handler'));
    expect(raised.error).toMatchObject({ errorType: 'RuntimeError', errorMessage: 'config missing at import' });
    expect(
      raised.logs.some((line) => line.startsWith('[ERROR] RuntimeError: config missing at import\rTraceback')),
    ).toBe(true);
    expect(raised.logs.at(-1)).toMatch(
      /\tStatus: error\tError Type: Runtime\.Unknown$|\tStatus: error\tError Type: RuntimeError$/,
    );
  });
});

describe('python bootstrap: faults', () => {
  it('a handler past its timeout, or spinning forever, is killed: Sandbox.Timedout', async () => {
    for (const handler of ['handlers.slow', 'handlers.spin']) {
      const outcome = errorOf(await run(handler, {}, { timeoutSec: 1 }));
      expect(outcome.cause).toBe('timeout');
      expect(outcome.error).toEqual({
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${outcome.requestId} Error: Task timed out after 1.00 seconds`,
      });
      expect(outcome.logs.at(-1)).toMatch(/\tStatus: timeout$/);
    }
  });

  it('sys.exit ends the runtime: Runtime.ExitError with its status', async () => {
    const outcome = errorOf(await run('handlers.quits'));
    expect(outcome.cause).toBe('exit');
    expect(outcome.error).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${outcome.requestId} Error: Runtime exited with error: exit status 3`,
    });
  });

  it('a handler that outgrows its memory is killed: Runtime.OutOfMemory', async () => {
    const outcome = errorOf(await run('handlers.hoard', {}, { timeoutSec: 20 }));
    expect(outcome.error).toEqual({
      errorType: 'Runtime.OutOfMemory',
      errorMessage: `RequestId: ${outcome.requestId} Error: Runtime exited with error: signal: killed`,
    });
    // Killed at its memory size, Lambda's REPORT says that much was used.
    expect(outcome.maxMemoryMb).toBe(128);
    expect(outcome.logs.at(-1)).toMatch(/\tStatus: error\tError Type: Runtime\.OutOfMemory$/);
  }, 30_000);
});
