/**
 * The local event sources: SQS event source mappings, SNS topics, Lambda destinations and
 * asynchronous invocation, EventBridge schedules. `EnvironmentEvents` wires them for one
 * environment; the parts are exported for tests and for tools that drive one directly.
 */
export { EnvironmentEvents, type EnvironmentEventsOptions, type EventActivity } from './environment-events.js';
export { QueuePoller, type QueuePollerOptions, type BatchReport } from './queue-poller.js';
export { AsyncInvoker, asyncQueueName, type AsyncInvokerOptions, type AsyncAttempt } from './async-invoker.js';
export {
  Topics,
  topicSubscribers,
  type TopicsOptions,
  type Subscriber,
  type PublishOptions,
  type PublishResult,
} from './topics.js';
export {
  invocationRecord,
  sendToDestination,
  type InvocationRecord,
  type InvocationRecordInput,
  type InvokeResult,
  type DestinationCondition,
  type DestinationConfig,
  type DestinationSinks,
} from './destinations.js';
export { Scheduler, scheduledEvent, type SchedulerOptions, type ScheduleDef } from './scheduler.js';
export {
  compileCron,
  compileSchedule,
  nextCronTime,
  nextFireTime,
  type CronSpec,
  type CompiledSchedule,
} from './cron.js';
export { toSqsEvent, toSqsRecord, fromSqsResult, md5, md5OfMessageAttributes, type BatchVerdict } from './sqs-event.js';
export {
  notification,
  toSnsEvent,
  toSqsEnvelope,
  subscriptionArn,
  type Notification,
  type SnsMessageAttributes,
} from './sns-event.js';
export { queueArn, topicArn, ruleArn, functionArn, type Where } from './arns.js';
export { systemClock, ManualClock, type Clock, type Timer } from './clock.js';
