/** The ARNs local event sources put in events, shaped as AWS writes them. */

export interface Where {
  region: string;
  account: string;
}

export const queueArn = ({ region, account }: Where, queue: string): string =>
  `arn:aws:sqs:${region}:${account}:${queue}`;
export const topicArn = ({ region, account }: Where, topic: string): string =>
  `arn:aws:sns:${region}:${account}:${topic}`;
export const ruleArn = ({ region, account }: Where, rule: string): string =>
  `arn:aws:events:${region}:${account}:rule/${rule}`;
export const functionArn = ({ region, account }: Where, fn: string, qualifier?: string): string =>
  `arn:aws:lambda:${region}:${account}:function:${fn}${qualifier === undefined ? '' : `:${qualifier}`}`;
