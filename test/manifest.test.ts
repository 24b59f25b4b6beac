import { describe, expect, it } from 'vitest';
import { StagecraftError } from '../src/errors.js';
import { parseManifest, type Manifest } from '../src/manifest/index.js';

const VALID = `
app: shop
provider: local
strategy: multi-stack
runtime: nodejs22.x
region: us-east-1
config:
  LOG_LEVEL: info
environments:
  - name: dev
    config: { LOG_LEVEL: debug }
  - name: staging
    soak: 72h
  - name: prod
    approval: manual
    deployment: canary 10% 5m
    alarms: { errorRate: 1%, p99: 800ms }
    config: { PAYMENT_KEY: "\${secret:payment-key}", DB: "\${env:DATABASE_URL, sqlite://local}" }
functions:
  api:
    handler: src/api.handler
    memory: 1GB
    ephemeralStorage: 2GB
    timeout: 30s
    concurrency: 10
    events:
      - http: GET /orders/{id}
      - http: { method: POST, path: /orders, payload: "1.0" }
      - http: ANY /files/{proxy+}
      - schedule: rate(5 minutes)
  worker:
    handler: src/worker.handler
    events:
      - queue: { name: orders, batchSize: 10 }
      - topic: order-events
    destinations:
      onSuccess: topic:order-events
      onFailure: queue:orders-dlq
resources:
  queues:
    orders: { visibilityTimeout: 30, maxReceiveCount: 3, deadLetter: orders-dlq }
    orders-dlq: {}
    audit:
  topics:
    order-events: { subscribers: [queue:audit] }
  tables:
    orders: { partitionKey: id }
smoke:
  - name: health
    http: GET /health
    expect: { status: 200, bodyContains: ok }
  - name: create
    invoke: api
    event: { rawPath: /orders, requestContext: { http: { method: POST } }, body: '{"id":"1"}' }
    expect: { status: 201 }
  - name: suite
    run: npm run smoke
    timeout: 2m
`;

const parse = async (text: string): Promise<Manifest> =>
  (await parseManifest(text, { file: 'stagecraft.yml' })).manifest;

async function problemsOf(text: string): Promise<string[]> {
  try {
    await parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(StagecraftError);
    expect((error as StagecraftError).code).toBe('MANIFEST_INVALID');
    return [...(error as StagecraftError).details];
  }
  throw new Error('the manifest was accepted');
}

describe('manifest', () => {
  it('accepts the full format of DESIGN §3 and parses its small languages', async () => {
    const manifest = await parse(VALID);
    expect(manifest.functions['api']).toMatchObject({
      memory: 1024,
      ephemeralStorage: 2048,
      timeout: 30,
      concurrency: 10,
    });
    expect(manifest.functions['api']?.events).toEqual([
      { type: 'http', method: 'GET', path: '/orders/{id}', payload: '2.0' },
      { type: 'http', method: 'POST', path: '/orders', payload: '1.0' },
      { type: 'http', method: 'ANY', path: '/files/{proxy+}', payload: '2.0' },
      {
        type: 'schedule',
        expression: { type: 'rate', everyMs: 300_000, expression: 'rate(5 minutes)' },
        input: undefined,
      },
    ]);
    const [dev, staging, prod] = manifest.environments;
    expect(dev).toMatchObject({ approval: 'auto', deployment: { type: 'allAtOnce' } });
    expect(staging?.soak).toBe(72 * 3_600_000);
    expect(prod).toMatchObject({
      approval: 'manual',
      deployment: { type: 'canary', percent: 10, waitMs: 300_000 },
      alarms: [
        { kind: 'errorRate', threshold: 1, windowMs: 60_000, minInvocations: 20 },
        { kind: 'p99', threshold: 800, windowMs: 60_000 },
      ],
    });
    expect(manifest.functions['worker']?.destinations?.onFailure).toEqual({ type: 'queue', name: 'orders-dlq' });
    expect(manifest.resources.queues['audit']).toEqual({ visibilityTimeout: 30 });
    expect(manifest.smoke.map((test) => test.timeout)).toEqual([30_000, 30_000, 120_000]);
  });

  it('applies defaults: local provider, multi-stack, nodejs22.x, 128 MB, 3 s', async () => {
    const manifest = await parse(
      'app: tiny\nenvironments: [{ name: dev }]\nfunctions: { f: { handler: src/f.handler } }\n',
    );
    expect(manifest).toMatchObject({
      provider: 'local',
      strategy: 'multi-stack',
      runtime: 'nodejs22.x',
      region: 'us-east-1',
    });
    expect(manifest.functions['f']).toMatchObject({
      memory: 128,
      ephemeralStorage: 512,
      timeout: 3,
      concurrency: 10,
      events: [],
    });
  });

  it('refuses a FIFO queue with a clear reason instead of serving it as a standard queue', async () => {
    const base = (fifo: string) =>
      `app: a\nenvironments: [{ name: dev }]\nfunctions: { f: { handler: src/f.handler } }\nresources:\n  queues:\n    jobs: { fifo: ${fifo} }\n`;
    expect((await parse(base('false'))).resources.queues['jobs']).toMatchObject({ fifo: false });
    const [problem] = await problemsOf(base('true'));
    expect(problem).toMatch(
      /resources\.queues\.jobs\.fifo: queue jobs asks for FIFO, which Stagecraft does not provide yet .*remove `fifo: true`/,
    );
  });

  it('takes the ci field: the app’s own commands, each optional, and branch environments off by default', async () => {
    const base = 'app: a\nenvironments: [{ name: dev }]\nfunctions: { f: { handler: src/f.handler } }\n';
    expect((await parse(base)).ci).toBeUndefined();
    expect((await parse(`${base}ci: { install: npm ci, test: npm test }\n`)).ci).toEqual({
      install: 'npm ci',
      test: 'npm test',
      branchEnvironments: false,
    });
    expect(await problemsOf(`${base}ci: { branchEnvironments: true }\n`)).toEqual([
      'stagecraft.yml:4:27 ci.branchEnvironments: branch environments need `ephemeral: { from: dev, ttl: 72h }`: the environment each one copies, and how long it lives',
    ]);
    expect(await problemsOf(`${base}ci: { tests: npm test, lint: "" }\n`)).toEqual([
      'stagecraft.yml:4:7 ci.tests: unknown key "tests"; valid keys here: install, lint, test, branchEnvironments',
      'stagecraft.yml:4:30 ci.lint: expected a shell command, e.g. npm test, found ""',
    ]);
  });

  it('parses linear policies and rejects malformed ones with the valid forms', async () => {
    const base = (policy: string) =>
      `app: a\nenvironments:\n  - name: prod\n    deployment: ${policy}\nfunctions: { f: { handler: src/f.handler } }\n`;
    expect((await parse(base('linear 10% every 1m'))).environments[0]?.deployment).toEqual({
      type: 'linear',
      percent: 10,
      intervalMs: 60_000,
    });
    for (const bad of ['canary 10%', 'canary 110% 5m', 'linear 10% 1m', 'bluegreen']) {
      const [problem] = await problemsOf(base(bad));
      expect(problem).toMatch(
        /^stagecraft\.yml:4:17 environments\[0\]\.deployment: expected `allAtOnce`, `canary <pct>% <duration>`, `linear <pct>% every <duration>` or an AWS name such as Canary10Percent5Minutes/,
      );
    }
  });

  it("reads AWS's named policies as the same canary and linear, and short durations for tests", async () => {
    const base = (policy: string) =>
      `app: a\nenvironments:\n  - name: prod\n    deployment: ${policy}\nfunctions: { f: { handler: src/f.handler } }\n`;
    const policy = async (text: string) => (await parse(base(text))).environments[0]?.deployment;
    expect(await policy('Canary10Percent5Minutes')).toEqual({ type: 'canary', percent: 10, waitMs: 300_000 });
    expect(await policy('LambdaCanary10Percent30Minutes')).toEqual({ type: 'canary', percent: 10, waitMs: 1_800_000 });
    expect(await policy('Linear10PercentEvery1Minute')).toEqual({ type: 'linear', percent: 10, intervalMs: 60_000 });
    expect(await policy('AllAtOnce')).toEqual({ type: 'allAtOnce' });
    expect(await policy('canary 10% 2s')).toEqual({ type: 'canary', percent: 10, waitMs: 2_000 });
  });

  it('parses alarms (errorRate, p99, throttles, command, cloudwatch) and hooks, and refuses an alarm of two kinds', async () => {
    const base = (rest: string) =>
      `app: a\nenvironments:\n  - name: prod\n${rest}functions: { f: { handler: src/f.handler } }\n`;
    const prod = (
      await parse(
        base(`    alarms:
      - { errorRate: "> 5%", window: 30s }
      - { p99: "> 800ms", minInvocations: 50 }
      - { throttles: "> 0" }
      - { command: ./kpi.sh }
      - { cloudwatch: shop-errors }
    hooks: { preTraffic: f, postTraffic: ./verify.sh }
`),
      )
    ).environments[0];
    expect(prod?.alarms).toEqual([
      { kind: 'errorRate', threshold: 5, windowMs: 30_000, minInvocations: 20 },
      { kind: 'p99', threshold: 800, windowMs: 60_000, minInvocations: 50 },
      { kind: 'throttles', threshold: 0, windowMs: 60_000, minInvocations: 20 },
      { kind: 'command', command: './kpi.sh' },
      { kind: 'cloudwatch', alarm: 'shop-errors' },
    ]);
    expect(prod?.hooks).toEqual({ preTraffic: 'f', postTraffic: './verify.sh' });
    const [problem] = await problemsOf(base('    alarms:\n      - { errorRate: 5%, p99: 1s }\n'));
    expect(problem).toMatch(
      /environments\[0\]\.alarms\[0\]: expected exactly one of errorRate, p99, throttles, command or cloudwatch/,
    );
  });

  it('reports every problem at once, each with file:line:column, key path and what was found', async () => {
    const problems = await problemsOf(`app: Shop
environments:
  - name: dev
    soak: 3 days
functions:
  api:
    handler: src/api.handler
    memory: lots
    ephemeralStorage: 100
    timout: 10
    events:
      - htp: GET /x
`);
    expect(problems).toEqual([
      'stagecraft.yml:1:6 app: expected an app name: a lower-case name matching [a-z][a-z0-9-]{0,30}, found "Shop"',
      'stagecraft.yml:4:11 environments[0].soak: expected a soak time such as 30s, 5m, 72h or 1h30m, found "3 days"',
      'stagecraft.yml:8:13 functions.api.memory: expected memory in MB from 128 to 10240, e.g. 256 or 1GB, found "lots"',
      'stagecraft.yml:9:23 functions.api.ephemeralStorage: expected ephemeral storage in MB from 512 to 10240, e.g. 512 or 2GB, found 100',
      'stagecraft.yml:10:5 functions.api.timout: unknown key "timout"; valid keys here: handler, runtime, code, package, requirements, memory, ephemeralStorage, timeout, concurrency, config, events, destinations',
      'stagecraft.yml:12:9 functions.api.events[0].htp: unknown key "htp"; valid keys here: http, queue, schedule, topic',
    ]);
  });

  it('names missing required keys and wrong types', async () => {
    expect(await problemsOf('app: a\nenvironments: dev\nfunctions: {}\n')).toEqual([
      'stagecraft.yml:2:15 environments: expected a list of environments, found "dev"',
      'stagecraft.yml:3:12 functions: declare at least one function, found a mapping',
    ]);
    expect(
      (await problemsOf('environments: [{ name: dev }]\nfunctions: { f: { handler: src/f.handler } }\n'))[0],
    ).toMatch(/^stagecraft\.yml:1:1 app: missing: expected an app name/);
  });

  it('checks references across the manifest', async () => {
    const problems = await problemsOf(`app: a
environments:
  - name: dev
  - name: dev
functions:
  f:
    handler: src/f.handler
    events:
      - queue: nowhere
      - http: GET /a
    destinations: { onFailure: "topic:gone" }
  g:
    handler: src/g.handler
    events:
      - http: GET /a
resources:
  queues:
    q: { deadLetter: missing-dlq }
smoke:
  - name: s
    invoke: nobody
`);
    expect(problems).toEqual([
      'stagecraft.yml:4:11 environments[1].name: environment "dev" is declared twice (first at environments[0]); names must be unique',
      'stagecraft.yml:9:16 functions.f.events[0].queue: queue:nowhere does not exist; declared queues: q',
      'stagecraft.yml:11:32 functions.f.destinations.onFailure: topic:gone does not exist; declared topics: (none)',
      'stagecraft.yml:15:15 functions.g.events[0].http: route GET /a is already served by function f; a route has one function',
      'stagecraft.yml:18:22 resources.queues.q.deadLetter: queue:missing-dlq does not exist; declared queues: q',
      'stagecraft.yml:21:13 smoke[0].invoke: function nobody does not exist; declared functions: f, g',
    ]);
  });

  it('reports invalid YAML with its position', async () => {
    expect((await problemsOf('app: a\nfunctions:\n  f: { handler: src/f.handler\n'))[0]).toMatch(
      /^stagecraft\.yml:\d+:\d+ invalid YAML: /,
    );
    expect(await problemsOf('app: a\napp: b\n')).toEqual(['stagecraft.yml:2:1 invalid YAML: Map keys must be unique']);
  });

  it('refuses reserved and malformed config keys and unknown references', async () => {
    const problems = await problemsOf(
      'app: a\nconfig: { AWS_REGION: x, "bad-key": 1, X: "${vault:y}" }\nenvironments: [{ name: dev }]\nfunctions: { f: { handler: src/f.handler } }\n',
    );
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('config.AWS_REGION: invalid key "AWS_REGION": config keys starting with AWS_');
    expect(problems[1]).toContain('config.bad-key: invalid key "bad-key"');
    expect(problems[2]).toContain('config.X: ${vault:y} is not a reference Stagecraft knows');
  });

  it('gives the same digest for the same content regardless of layout and comments', async () => {
    const a = await parseManifest(
      'app: a # the app\nenvironments: [{ name: dev }]\nfunctions: { f: { handler: src/f.handler } }\n',
      { file: 'x' },
    );
    const b = await parseManifest(
      'functions:\n  f:\n    handler: src/f.handler\nenvironments:\n  - name: dev\napp: a\n',
      { file: 'x' },
    );
    expect(a.digest).toBe(b.digest);
  });
});
