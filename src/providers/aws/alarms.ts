/**
 * The CloudWatch alarms a deploy keeps for an environment's `alarms:` (errorRate, p99, throttles): one metric alarm per
 * function and alarm on the `live` alias (`Resource: fn:live`), pointed at the version a shift brings
 * (`ExecutedVersion`) before its first step, deleted when their environment, function or alarm leaves the manifest.
 */
import type {
  CloudWatchClient,
  Dimension,
  MetricAlarm,
  MetricDataQuery,
  PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { formatDuration, type AlarmDef } from '../../manifest/index.js';
import type { ArmedAlarm, ShiftAlarms } from '../provider.js';
import { providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';

type MetricAlarmDef = Extract<AlarmDef, { kind: 'errorRate' | 'p99' | 'throttles' }>;

/** One function's `live` alias in an environment, and the version its alarms watch (none: the alias as a whole). */
export interface WatchedFunction {
  function: string;
  instance: string;
  alias: string;
  version?: number | undefined;
}

interface Desired extends ArmedAlarm {
  input: PutMetricAlarmCommandInput;
}

const DESCRIPTION = /^stagecraft app=(\S+) env=(\S+) function=(\S+):/;
/** Lambda sends its metrics once a minute: a CloudWatch period is a whole number of minutes, at most a day. */
const MINUTE_S = 60;
const DAY_S = 86_400;

export function isMetricAlarm(alarm: AlarmDef): alarm is MetricAlarmDef {
  return alarm.kind === 'errorRate' || alarm.kind === 'p99' || alarm.kind === 'throttles';
}

/** `stagecraft-shop-prod-api-errorRate`; a second alarm of the same kind in the environment gets `-2`. */
function alarmName(app: string, env: string, fn: string, kind: string, ordinal: number): string {
  return `stagecraft-${app}-${env}-${fn}-${kind}${ordinal > 1 ? `-${ordinal}` : ''}`;
}

export function periodSeconds(windowMs: number): number {
  return Math.min(DAY_S, Math.max(MINUTE_S, Math.ceil(windowMs / 1000 / MINUTE_S) * MINUTE_S));
}

/** The alarms an environment's manifest asks for, per function, as PutMetricAlarm inputs; `versionOf` by alarm name. */
export function desiredAlarms(
  app: string,
  env: string,
  functions: WatchedFunction[],
  alarms: AlarmDef[],
  versionOf?: (name: string) => number | undefined,
): Desired[] {
  const seen = new Map<string, number>();
  const ordinals = alarms.map((alarm) => {
    const next = (seen.get(alarm.kind) ?? 0) + 1;
    seen.set(alarm.kind, next);
    return next;
  });
  return functions.flatMap((target) =>
    alarms.flatMap((alarm, index) => {
      if (!isMetricAlarm(alarm)) return [];
      const name = alarmName(app, env, target.function, alarm.kind, ordinals[index] ?? 1);
      const period = periodSeconds(alarm.windowMs);
      const watched = versionOf ? { ...target, version: versionOf(name) } : target;
      return [
        {
          function: target.function,
          index,
          name,
          windowMs: period * 1000,
          input: alarmInput(
            name,
            `stagecraft app=${app} env=${env} function=${target.function}`,
            watched,
            alarm,
            period,
          ),
        },
      ];
    }),
  );
}

function alarmInput(
  name: string,
  owner: string,
  target: WatchedFunction,
  alarm: MetricAlarmDef,
  period: number,
): PutMetricAlarmCommandInput {
  const alias = [
    { Name: 'FunctionName', Value: target.instance },
    { Name: 'Resource', Value: `${target.instance}:${target.alias}` },
  ];
  // ExecutedVersion names the version that ran an invocation through a weighted alias
  // (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html): a throttled request ran none.
  const executed =
    target.version === undefined ? alias : [...alias, { Name: 'ExecutedVersion', Value: String(target.version) }];
  const common = {
    AlarmName: name,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    ComparisonOperator: 'GreaterThanThreshold' as const,
    Threshold: alarm.threshold,
    // No traffic on the new version is no breach: a quiet canary waits for its window, as the local runtime does.
    TreatMissingData: 'notBreaching',
  };
  const where = `the live alias of ${target.instance}${target.version === undefined ? '' : `, version ${target.version}`}`;
  if (alarm.kind === 'errorRate') {
    const stat = (id: string, metric: string): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: { Namespace: 'AWS/Lambda', MetricName: metric, Dimensions: executed },
        Period: period,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    return {
      ...common,
      AlarmDescription: `${owner}: errorRate > ${alarm.threshold}% over ${formatDuration(period * 1000)} (at least ${alarm.minInvocations} invocations) on ${where}`,
      Metrics: [
        stat('invocations', 'Invocations'),
        stat('errors', 'Errors'),
        {
          Id: 'rate',
          // Below the manifest's minimum of invocations the rate counts as 0: a few early errors are no breach.
          Expression: `IF(invocations >= ${alarm.minInvocations}, 100 * errors / invocations, 0)`,
          Label: 'error rate (%)',
          ReturnData: true,
        },
      ],
    };
  }
  if (alarm.kind === 'p99') {
    return {
      ...common,
      AlarmDescription: `${owner}: p99 > ${alarm.threshold}ms over ${formatDuration(period * 1000)} on ${where}`,
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: executed,
      ExtendedStatistic: 'p99',
      Period: period,
      // CloudWatch's own rule for too few samples to say a percentile stands in for minInvocations
      // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#percentiles-with-low-samples).
      EvaluateLowSampleCountPercentile: 'ignore',
    };
  }
  return {
    ...common,
    AlarmDescription: `${owner}: throttles > ${alarm.threshold} over ${formatDuration(period * 1000)} on the live alias of ${target.instance}`,
    Namespace: 'AWS/Lambda',
    MetricName: 'Throttles',
    Dimensions: alias,
    Statistic: 'Sum',
    Period: period,
  };
}

const sortDims = (dims: Dimension[] | undefined) =>
  dims && dims.length > 0
    ? [...dims].sort((a, b) => String(a.Name).localeCompare(String(b.Name))).map((d) => [d.Name, d.Value])
    : undefined;

/** The fields Stagecraft sets, from what it puts or what DescribeAlarms returns, for a comparison. */
function comparable(alarm: PutMetricAlarmCommandInput | MetricAlarm): string {
  const metrics = (alarm.Metrics ?? []).map((query) => ({
    id: query.Id,
    expression: query.Expression,
    label: query.Label,
    returnData: query.ReturnData,
    stat: query.MetricStat && {
      namespace: query.MetricStat.Metric?.Namespace,
      metric: query.MetricStat.Metric?.MetricName,
      dimensions: sortDims(query.MetricStat.Metric?.Dimensions),
      period: query.MetricStat.Period,
      stat: query.MetricStat.Stat,
    },
  }));
  return JSON.stringify([
    alarm.AlarmDescription,
    alarm.Namespace,
    alarm.MetricName,
    sortDims(alarm.Dimensions),
    alarm.Statistic,
    alarm.ExtendedStatistic,
    alarm.Period,
    alarm.EvaluationPeriods,
    alarm.DatapointsToAlarm,
    alarm.Threshold,
    alarm.ComparisonOperator,
    alarm.TreatMissingData,
    alarm.EvaluateLowSampleCountPercentile,
    metrics.length > 0 ? metrics : undefined,
  ]);
}

/** The version an alarm watches (its ExecutedVersion dimension), if any. */
function watchedVersion(alarm: MetricAlarm): number | undefined {
  const dims = [
    ...(alarm.Dimensions ?? []),
    ...(alarm.Metrics ?? []).flatMap((q) => q.MetricStat?.Metric?.Dimensions ?? []),
  ];
  const value = dims.find((dim) => dim.Name === 'ExecutedVersion')?.Value;
  return value === undefined ? undefined : Number(value);
}

/** Stagecraft's alarms of `app` whose names start with `prefix`, with the environment each belongs to. */
async function ownAlarms(
  client: CloudWatchClient,
  app: string,
  prefix: string,
): Promise<(MetricAlarm & { env: string })[]> {
  const found: (MetricAlarm & { env: string })[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, AlarmTypes: ['MetricAlarm'], NextToken: token }),
    );
    for (const alarm of page.MetricAlarms ?? []) {
      // `stagecraft-shop-` also starts the names of an app `shop-eu`: the description says whose it is.
      const owner = DESCRIPTION.exec(alarm.AlarmDescription ?? '');
      if (owner?.[1] === app && owner[2] !== undefined) found.push({ ...alarm, env: owner[2] });
    }
    token = page.NextToken;
  } while (token);
  return found;
}

async function deleteAlarms(client: CloudWatchClient, names: string[]): Promise<void> {
  // DeleteAlarms takes at most 100 names, and deletes none when one of them does not exist.
  for (let start = 0; start < names.length; start += 100)
    await client.send(new DeleteAlarmsCommand({ AlarmNames: names.slice(start, start + 100) }));
}

export interface AlarmSync {
  app: string;
  environment: string;
  /** Every environment of the app now: alarms of any other one are deleted. */
  environments: string[];
  functions: WatchedFunction[];
  alarms: AlarmDef[];
}

/**
 * Creates or updates the environment's alarms and deletes those the manifest no longer asks for. An alarm keeps
 * the version it watches (a shift points it, `pointAlarms`); one that is already as asked is not put again.
 * `remaining`: how many alarms the app has left, in every environment.
 */
export async function syncAlarms(
  clients: AwsClients,
  sync: AlarmSync,
): Promise<{ put: string[]; deleted: string[]; remaining: number }> {
  const client = await clients.cloudwatch();
  try {
    const existing = await ownAlarms(client, sync.app, `stagecraft-${sync.app}-`);
    const byName = new Map(existing.map((alarm) => [alarm.AlarmName ?? '', alarm]));
    const desired = desiredAlarms(sync.app, sync.environment, sync.functions, sync.alarms, (name) => {
      const current = byName.get(name);
      return current && watchedVersion(current);
    });
    const wanted = new Set(desired.map((alarm) => alarm.name));
    const stale = existing
      .filter((alarm) =>
        alarm.env === sync.environment ? !wanted.has(alarm.AlarmName ?? '') : !sync.environments.includes(alarm.env),
      )
      .map((alarm) => alarm.AlarmName ?? '');
    await deleteAlarms(client, stale);
    const put: string[] = [];
    for (const alarm of desired) {
      const current = byName.get(alarm.name);
      if (current && comparable(current) === comparable(alarm.input)) continue;
      await client.send(new PutMetricAlarmCommand(alarm.input));
      put.push(alarm.name);
    }
    const remaining = new Set([...byName.keys(), ...wanted]);
    for (const name of stale) remaining.delete(name);
    return { put, deleted: stale, remaining: remaining.size };
  } catch (cause) {
    throw providerError(
      cause,
      `cannot keep the CloudWatch alarms of ${sync.environment} (cloudwatch:DescribeAlarms, PutMetricAlarm, DeleteAlarms)`,
    );
  }
}

/**
 * Points the alarms of a shift's functions at the version each now brings. An alarm in ALARM is reset to OK
 * when the shift begins or the alarm watches another version now: its state was about what it watched before
 * (PutMetricAlarm leaves the state as it was, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
 */
export async function pointAlarms(
  clients: AwsClients,
  app: string,
  shift: ShiftAlarms,
): Promise<{ armed: ArmedAlarm[]; put: string[]; reset: string[] }> {
  const client = await clients.cloudwatch();
  const desired = desiredAlarms(app, shift.environment, shift.targets, shift.alarms);
  try {
    const current = new Map<string, MetricAlarm>();
    for (let start = 0; start < desired.length; start += 100) {
      const page = await client.send(
        new DescribeAlarmsCommand({
          AlarmNames: desired.slice(start, start + 100).map((alarm) => alarm.name),
          AlarmTypes: ['MetricAlarm'],
        }),
      );
      for (const alarm of page.MetricAlarms ?? []) current.set(alarm.AlarmName ?? '', alarm);
    }
    const put: string[] = [];
    const reset: string[] = [];
    for (const alarm of desired) {
      const before = current.get(alarm.name);
      const changed = !before || comparable(before) !== comparable(alarm.input);
      if (changed) {
        await client.send(new PutMetricAlarmCommand(alarm.input));
        put.push(alarm.name);
      }
      if (before?.StateValue === 'ALARM' && (shift.begins || changed)) {
        await client.send(
          new SetAlarmStateCommand({
            AlarmName: alarm.name,
            StateValue: 'OK',
            StateReason: `Stagecraft: a shift to version ${shift.targets.find((t) => t.function === alarm.function)?.version} begins`,
          }),
        );
        reset.push(alarm.name);
      }
    }
    return { armed: desired.map(({ input: _input, ...armed }) => armed), put, reset };
  } catch (cause) {
    throw providerError(
      cause,
      `cannot point the CloudWatch alarms of ${shift.environment} at the new versions (cloudwatch:PutMetricAlarm, SetAlarmState)`,
    );
  }
}

/** `destroy`: every alarm Stagecraft keeps for the environment; `remaining`: the app's alarms left in the others. */
export async function deleteEnvironmentAlarms(
  clients: AwsClients,
  app: string,
  env: string,
): Promise<{ deleted: string[]; remaining: number }> {
  const client = await clients.cloudwatch();
  try {
    const own = await ownAlarms(client, app, `stagecraft-${app}-`);
    const names = own.filter((alarm) => alarm.env === env).map((alarm) => alarm.AlarmName ?? '');
    await deleteAlarms(client, names);
    return { deleted: names, remaining: own.length - names.length };
  } catch (cause) {
    throw providerError(cause, `cannot delete the CloudWatch alarms of ${env} (cloudwatch:DeleteAlarms)`);
  }
}
