/**
 * What a traffic shift reads from CloudWatch on the aws provider: the states of its alarms (those the deploy keeps,
 * alarms.ts, and those the manifest names by name or ARN), and for its progress lines a version's traffic behind an
 * alias, from Lambda's metrics on `FunctionName`, `Resource` (`fn:alias`) and `ExecutedVersion`
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#invocation-metrics).
 */
import { DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { MetricSummary } from '../../state/index.js';
import type { AlarmState, VersionMetricsQuery } from '../provider.js';
import { providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';

/** `arn:aws:cloudwatch:us-east-1:123456789012:alarm:name` → `name`; a name stays as it is. */
export function alarmNameOf(nameOrArn: string): string {
  const at = nameOrArn.indexOf(':alarm:');
  return nameOrArn.startsWith('arn:') && at !== -1 ? nameOrArn.slice(at + ':alarm:'.length) : nameOrArn;
}

export async function readAlarmStates(clients: AwsClients, alarms: string[]): Promise<AlarmState[]> {
  const client = await clients.cloudwatch();
  const names = [...new Set(alarms.map(alarmNameOf))];
  try {
    // DescribeAlarms takes at most 100 names per call.
    const found = new Map<string, Omit<AlarmState, 'alarm' | 'state'> & { state: string }>();
    for (let start = 0; start < names.length; start += 100) {
      const page = await client.send(
        new DescribeAlarmsCommand({
          AlarmNames: names.slice(start, start + 100),
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        }),
      );
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (!alarm.AlarmName) continue;
        const value = recentValue(alarm.StateReasonData);
        found.set(alarm.AlarmName, {
          state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
          ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
          ...(value === undefined ? {} : { value }),
          ...(alarm.StateUpdatedTimestamp ? { since: alarm.StateUpdatedTimestamp.toISOString() } : {}),
        });
      }
    }
    return alarms.map((alarm) => {
      const { state, ...rest } = found.get(alarmNameOf(alarm)) ?? { state: 'MISSING' };
      return { alarm, state: state as AlarmState['state'], ...rest };
    });
  } catch (cause) {
    throw providerError(cause, 'cannot read the CloudWatch alarms of the shift (cloudwatch:DescribeAlarms)');
  }
}

/** The newest datapoint CloudWatch evaluated, from StateReasonData's `recentDatapoints`, when it says. */
function recentValue(data: string | undefined): number | undefined {
  try {
    const points = (JSON.parse(data ?? '{}') as { recentDatapoints?: unknown }).recentDatapoints;
    const last = Array.isArray(points) ? (points.at(-1) as unknown) : undefined;
    return typeof last === 'number' ? last : undefined;
  } catch {
    return undefined;
  }
}

export async function readVersionMetrics(clients: AwsClients, query: VersionMetricsQuery): Promise<MetricSummary> {
  const client = await clients.cloudwatch();
  const dimensions = [
    { Name: 'FunctionName', Value: query.instance },
    { Name: 'Resource', Value: `${query.instance}:${query.alias}` },
    { Name: 'ExecutedVersion', Value: String(query.version) },
  ];
  const metric = (id: string, name: string, stat: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/Lambda', MetricName: name, Dimensions: dimensions },
      Period: 60,
      Stat: stat,
    },
  });
  try {
    const answer = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(query.sinceMs),
        EndTime: new Date(Math.max(query.untilMs, query.sinceMs + 1000)),
        MetricDataQueries: [
          metric('invocations', 'Invocations', 'Sum'),
          metric('errors', 'Errors', 'Sum'),
          metric('throttles', 'Throttles', 'Sum'),
          metric('p99', 'Duration', 'p99'),
        ],
      }),
    );
    const values = (id: string) => answer.MetricDataResults?.find((result) => result.Id === id)?.Values ?? [];
    const sum = (id: string) => values(id).reduce((total, value) => total + value, 0);
    const p99 = values('p99');
    return {
      invocations: sum('invocations'),
      errors: sum('errors'),
      throttles: sum('throttles'),
      p99Ms: p99.length === 0 ? null : Math.max(...p99),
      fromMs: query.sinceMs,
      toMs: query.untilMs,
    };
  } catch (cause) {
    throw providerError(
      cause,
      `cannot read the metrics of ${query.instance}:${query.alias} version ${query.version} (cloudwatch:GetMetricData)`,
    );
  }
}
