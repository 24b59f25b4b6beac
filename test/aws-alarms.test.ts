/**
 * The CloudWatch alarms of `alarms:` on the aws provider, against a real moto_server and the real CLI: the deploy
 * keeps one metric alarm per function and alarm on `fn:live` (their exact dimensions, thresholds and periods), a
 * shift points them at its new version, an alarm put in ALARM mid-shift (`aws cloudwatch set-alarm-state`) rolls
 * back, as does an alarm the manifest names by ARN; stale alarms go on deploy and every one with `destroy`, also
 * from a CI runner (shared state) that did not keep them.
 *
 * moto 5.2.1 stores alarms and their metric math but evaluates none (no datapoint ever moves a state: the test sets
 * them), starts an alarm in OK (AWS: INSUFFICIENT_DATA), and resets the state to OK on every PutMetricAlarm (AWS
 * leaves it as it was), so the reset a new shift makes is seen here on an alarm that is not put again.
 */
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli, type CliResult } from './helpers/cli.js';
import { MOTO_ACCOUNT, putErrorsAlarm, startMotoSession, type MotoSession } from './helpers/moto.js';
import { eventually } from './helpers/wait.js';

const TEAM_ALARM = `arn:aws:cloudwatch:us-east-1:${MOTO_ACCOUNT}:alarm:team-errors`;

interface Manifest {
  deployment: string;
  functions?: string[];
  shadowToo?: boolean;
  p99?: boolean;
  /** Only the team's own alarm: none for Stagecraft to keep. */
  teamOnly?: boolean;
  /** Shared state in DynamoDB, as CI runners keep it. */
  shared?: boolean;
}

function manifestText({
  deployment,
  functions = ['api', 'worker'],
  shadowToo = true,
  p99 = true,
  teamOnly = false,
  shared = false,
}: Manifest): string {
  const alarms = [
    ...(teamOnly
      ? []
      : [
          '      - { errorRate: "> 5%", window: 1m, minInvocations: 10 }',
          ...(p99 ? ['      - { p99: "> 800ms", window: 90s }'] : []),
          '      - { throttles: "> 0" }',
        ]),
    `      - { cloudwatch: "${TEAM_ALARM}" }`,
  ];
  return [
    'app: watch',
    'provider: aws',
    ...(shared ? ['state: { backend: dynamodb, table: watch-state }'] : []),
    'environments:',
    '  - name: prod',
    `    deployment: ${deployment}`,
    '    alarms:',
    ...alarms,
    ...(shadowToo ? ['  - name: shadow', '    alarms: [{ errorRate: "> 20%" }]'] : []),
    'functions:',
    ...functions.map((fn) => `  ${fn}: { handler: src/${fn}.handler }`),
  ].join('\n');
}

describe('CloudWatch alarms of a shift on moto_server', { timeout: 600_000 }, () => {
  const app = copyApp('traffic');
  let session: MotoSession;
  let cloudwatch: CloudWatchClient;
  /** The releases built, in order. */
  const releases: string[] = [];

  /** Writes the manifest and code `answer`, builds, and runs `args` (a CLI process, as people run it). */
  const release = async (manifest: Manifest, answer: string, args: string[], on = app): Promise<CliResult> => {
    on.write('stagecraft.yml', manifestText(manifest));
    for (const fn of ['api', 'worker'])
      on.write(`src/${fn}.mjs`, `export const handler = async () => (${JSON.stringify(`${answer} ${fn}`)});\n`);
    const build = await runCli(['build', '--json', '--dir', on.dir], { env: session.moto.env, timeoutMs: 120_000 });
    expect(build.code, build.stderr).toBe(0);
    releases.push(build.json<{ release: string }>().release);
    return runCli([...args, '--dir', on.dir], { env: session.moto.env, timeoutMs: 300_000 });
  };
  /** The ledger's `alarms.kept` records, as `history` shows them from `on` (with shared state: every machine's). */
  const keptRecords = async (on = app) => {
    const history = await runCli(['history', '--json', '--dir', on.dir], { env: session.moto.env });
    return history
      .json<{ entries: { kind: string; detail: Record<string, unknown> | null }[] }>()
      .entries.filter((entry) => entry.kind === 'alarms.kept');
  };
  const stagecraftAlarms = async (): Promise<Map<string, MetricAlarm>> => {
    const page = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'stagecraft-watch-' }));
    return new Map((page.MetricAlarms ?? []).map((alarm) => [alarm.AlarmName ?? '', alarm]));
  };
  const live = async (fn: string) => {
    const alias = await session.lambda.send(new GetAliasCommand({ FunctionName: `watch-${fn}-prod`, Name: 'live' }));
    return { version: alias.FunctionVersion, weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {} };
  };
  const setAlarmState = async (name: string, reason: string, data: string): Promise<void> => {
    const cli = spawn(
      'aws',
      [
        ...['cloudwatch', 'set-alarm-state', '--alarm-name', name, '--state-value', 'ALARM'],
        ...['--state-reason', reason, '--state-reason-data', data, '--endpoint-url', session.moto.endpoint],
      ],
      { env: { ...process.env, ...session.moto.env }, stdio: 'inherit' },
    );
    expect(await new Promise((resolve) => cli.once('exit', resolve))).toBe(0);
  };
  /** Waits until prod's `live` of api splits traffic to `version`: the shift is at its first step. */
  const splitTo = (version: string) =>
    eventually(
      async () => ((await live('api').catch(() => undefined))?.weights[version] === 0.1 ? true : undefined),
      120_000,
      `live of watch-api-prod at 10 % on version ${version}`,
    );

  beforeAll(async () => {
    session = await startMotoSession();
    cloudwatch = new CloudWatchClient({});
    // An alarm of the team's own, which the manifest names by ARN.
    await putErrorsAlarm('team-errors', [{ Name: 'FunctionName', Value: 'watch-api-prod' }]);
  }, 60_000);
  afterAll(async () => {
    cloudwatch?.destroy();
    await session?.stop();
    app.remove();
  });

  it('deploy keeps an alarm per function and alarm on fn:live; a shift points them at the new version', async () => {
    const first = await release({ deployment: 'canary 10% 1s' }, 'one', ['deploy', 'prod']);
    expect(first.code, first.stderr).toBe(0);
    const shadow = await runCli(['deploy', 'shadow', '--dir', app.dir], { env: session.moto.env, timeoutMs: 120_000 });
    expect(shadow.code, shadow.stderr).toBe(0);
    const created = await stagecraftAlarms();
    expect([...created.keys()].sort()).toEqual(
      [
        'stagecraft-watch-prod-api-errorRate',
        'stagecraft-watch-prod-api-p99',
        'stagecraft-watch-prod-api-throttles',
        'stagecraft-watch-prod-worker-errorRate',
        'stagecraft-watch-prod-worker-p99',
        'stagecraft-watch-prod-worker-throttles',
        'stagecraft-watch-shadow-api-errorRate',
        'stagecraft-watch-shadow-worker-errorRate',
      ].sort(),
    );
    // A first deploy moves live at once: the alarms watch the alias as a whole until a shift points them.
    expect(created.get('stagecraft-watch-prod-api-p99')?.Dimensions).toEqual([
      { Name: 'FunctionName', Value: 'watch-api-prod' },
      { Name: 'Resource', Value: 'watch-api-prod:live' },
    ]);

    const second = await release({ deployment: 'canary 10% 1s' }, 'two', ['deploy', 'prod']);
    expect(second.code, second.stderr).toBe(0);
    const alarms = await stagecraftAlarms();
    const v2 = [
      { Name: 'FunctionName', Value: 'watch-api-prod' },
      { Name: 'Resource', Value: 'watch-api-prod:live' },
      { Name: 'ExecutedVersion', Value: '2' },
    ];
    const errorRate = alarms.get('stagecraft-watch-prod-api-errorRate');
    expect(errorRate).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(errorRate?.Metrics).toEqual([
      {
        Id: 'invocations',
        MetricStat: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: v2 },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: false,
      },
      {
        Id: 'errors',
        MetricStat: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: v2 },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: false,
      },
      {
        Id: 'rate',
        Expression: 'IF(invocations >= 10, 100 * errors / invocations, 0)',
        Label: 'error rate (%)',
        ReturnData: true,
      },
    ]);
    // 90 s is not a whole number of Lambda's one-minute datapoints: the period is the next one up.
    expect(alarms.get('stagecraft-watch-prod-api-p99')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Dimensions: v2,
      Period: 120,
      Threshold: 800,
      EvaluateLowSampleCountPercentile: 'ignore',
    });
    expect(alarms.get('stagecraft-watch-prod-api-throttles')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Statistic: 'Sum',
      Dimensions: v2.slice(0, 2),
      Period: 60,
      Threshold: 0,
    });
    expect(alarms.get('stagecraft-watch-prod-worker-p99')?.Dimensions).toContainEqual({
      Name: 'ExecutedVersion',
      Value: '2',
    });
    // shadow moved at once (allAtOnce) and was not deployed again: its alarms watch the alias.
    expect(alarms.get('stagecraft-watch-shadow-api-errorRate')?.Metrics?.[0]?.MetricStat?.Metric?.Dimensions).toEqual(
      v2.slice(0, 2).map((dim) => ({ ...dim, Value: dim.Value.replace('prod', 'shadow') })),
    );
  });

  it('the stack alarm put in ALARM mid-shift rolls live back to the old version alone, named in output and ledger', async () => {
    const run = release({ deployment: 'canary 10% 5m' }, 'three', ['deploy', 'prod']);
    await splitTo('3');
    // The alarms watch version 3 before its first step takes traffic.
    const pointed = (await stagecraftAlarms()).get('stagecraft-watch-prod-api-errorRate');
    expect(pointed?.Metrics?.[1]?.MetricStat?.Metric?.Dimensions).toContainEqual({
      Name: 'ExecutedVersion',
      Value: '3',
    });
    await setAlarmState(
      'stagecraft-watch-prod-api-errorRate',
      'Threshold Crossed: 1 datapoint [42.5] was greater than the threshold (5.0).',
      '{"recentDatapoints":[42.5],"threshold":5.0}',
    );
    const failed = await run;
    expect(failed.code, failed.stderr).toBe(1);
    const output = failed.stdout + failed.stderr;
    expect(output).toContain('alarm stagecraft-watch-prod-api-errorRate breached at 10%: errorRate 42.5% in 1m');
    expect(output).toContain('Threshold Crossed: 1 datapoint [42.5]');
    expect(await live('api')).toEqual({ version: '2', weights: {} });
    expect(await live('worker')).toEqual({ version: '2', weights: {} });

    const history = await runCli(['history', '--json', '--dir', app.dir], { env: session.moto.env });
    const entries = history.json<{ entries: { kind: string; detail: Record<string, unknown> | null }[] }>().entries;
    expect(entries.find((entry) => entry.kind === 'promotion.failed')?.detail).toMatchObject({
      breach: {
        alarm: 'stagecraft-watch-prod-api-errorRate',
        metric: 'errorRate',
        value: 42.5,
        threshold: 5,
        windowMs: 60_000,
        reason: expect.stringContaining('Threshold Crossed'),
      },
    });
    expect(entries.some((entry) => entry.kind === 'alarms.pointed')).toBe(true);
  });

  it('a new shift does not take the ALARM an earlier try left: the same release deployed again goes live', async () => {
    // The alarm still says ALARM about version 3, and version 3 is published again (same code and config): the
    // alarm is not put again, so only the reset of a beginning shift lets this one pass.
    expect((await stagecraftAlarms()).get('stagecraft-watch-prod-api-errorRate')?.StateValue).toBe('ALARM');
    app.write('stagecraft.yml', manifestText({ deployment: 'canary 10% 1s' }));
    const again = await runCli(['deploy', 'prod', '--release', releases.at(-1) ?? '', '--dir', app.dir], {
      env: session.moto.env,
      timeoutMs: 300_000,
    });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await live('api')).toEqual({ version: '3', weights: {} });
    expect((await stagecraftAlarms()).get('stagecraft-watch-prod-api-errorRate')?.StateValue).toBe('OK');
  });

  it('an alarm the manifest names by ARN going to ALARM mid-shift rolls back too', async () => {
    const run = release({ deployment: 'canary 10% 5m' }, 'four', ['deploy', 'prod']);
    await splitTo('4');
    await setAlarmState('team-errors', 'errors seen by the team', '{}');
    const failed = await run;
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stdout + failed.stderr).toContain(`alarm cloudwatch ${TEAM_ALARM} breached at 10%`);
    expect(failed.stdout + failed.stderr).toContain('errors seen by the team');
    expect(await live('api')).toEqual({ version: '3', weights: {} });
  });

  it('alarms of a removed environment, function or alarm go on deploy, the last one too; destroy removes the rest', async () => {
    const trimmed = { deployment: 'allAtOnce', functions: ['api'], shadowToo: false, p99: false };
    const deployed = await release(trimmed, 'five', ['deploy', 'prod']);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect([...(await stagecraftAlarms()).keys()].sort()).toEqual([
      'stagecraft-watch-prod-api-errorRate',
      'stagecraft-watch-prod-api-throttles',
    ]);
    // A manifest that asks Stagecraft for no alarm at all: the ones it kept go, and the ledger says none remain.
    const none = { deployment: 'allAtOnce', functions: ['api'], shadowToo: false, teamOnly: true };
    const bare = await release(none, 'six', ['deploy', 'prod']);
    expect(bare.code, bare.stdout + bare.stderr).toBe(0);
    expect([...(await stagecraftAlarms()).keys()]).toEqual([]);
    const records = await keptRecords();
    expect(records.at(-1)?.detail).toMatchObject({
      put: [],
      deleted: ['stagecraft-watch-prod-api-errorRate', 'stagecraft-watch-prod-api-throttles'],
      remaining: 0,
    });
    // From then on a deploy makes no CloudWatch call for alarms, and records none.
    const again = await release(none, 'seven', ['deploy', 'prod']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(await keptRecords()).toHaveLength(records.length);
    const destroyed = await runCli(['destroy', 'prod', '--force', '--yes', '--dir', app.dir], {
      env: session.moto.env,
      timeoutMs: 120_000,
    });
    expect(destroyed.code, destroyed.stdout + destroyed.stderr).toBe(0);
    expect([...(await stagecraftAlarms()).keys()]).toEqual([]);
    // The team's own alarm is not Stagecraft's to delete.
    const team = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['team-errors'] }));
    expect(team.MetricAlarms?.map((alarm) => alarm.AlarmName)).toEqual(['team-errors']);
  });

  it('with shared state, a CI runner that did not keep the alarms deletes them once the manifest asks for none', async () => {
    const runnerA = copyApp('traffic');
    const runnerB = copyApp('traffic');
    const runnerC = copyApp('traffic');
    try {
      const kept = { deployment: 'allAtOnce', functions: ['api'], shadowToo: false, p99: false, shared: true };
      const deployed = await release(kept, 'eight', ['deploy', 'prod'], runnerA);
      expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
      expect((await stagecraftAlarms()).size).toBe(2);
      // Runner B starts from a fresh clone: its own ledger holds no record of the alarms A kept.
      const none = { ...kept, teamOnly: true };
      const bare = await release(none, 'nine', ['deploy', 'prod'], runnerB);
      expect(bare.code, bare.stdout + bare.stderr).toBe(0);
      expect([...(await stagecraftAlarms()).keys()]).toEqual([]);
      runnerC.write('stagecraft.yml', manifestText(none));
      const records = await keptRecords(runnerC);
      expect(records.at(-1)?.detail).toMatchObject({ put: [], remaining: 0 });
      // Runner C, fresh too, learns from the table that none remain: no call, no record.
      const again = await release(none, 'ten', ['deploy', 'prod'], runnerC);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(await keptRecords(runnerC)).toHaveLength(records.length);
    } finally {
      for (const runner of [runnerA, runnerB, runnerC]) runner.remove();
    }
  });
});
