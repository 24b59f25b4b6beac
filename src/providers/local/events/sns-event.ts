/**
 * SNS notifications as subscribers receive them: the JSON envelope SNS writes into an SQS
 * message body (raw message delivery off, the default) and the event it invokes a Lambda
 * function with. The two spell the URL keys differently (`SigningCertURL` / `SigningCertUrl`).
 * Nothing signs locally: `Signature` is a digest of the notification, not AWS's signature.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
 */
import type { SNSEvent, SNSMessage, SNSMessageAttributes } from 'aws-lambda';
import { createHash, randomUUID } from 'node:crypto';
import { StagecraftError } from '../../../errors.js';
import { topicArn, type Where } from './arns.js';

export type SnsMessageAttributes = SNSMessageAttributes;

export interface Notification {
  messageId: string;
  topicArn: string;
  message: string;
  subject: string | undefined;
  /** ISO 8601 with milliseconds, as SNS writes it. */
  timestamp: string;
  attributes: SnsMessageAttributes;
}

/** SNS's payload limit (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). */
const MAX_MESSAGE_BYTES = 262_144;
const ATTRIBUTE_TYPES = /^(String|String\.Array|Number|Binary)$/;

export function notification(
  where: Where,
  topic: string,
  message: string,
  options: { subject?: string; attributes?: SnsMessageAttributes; now: number },
): Notification {
  if (message.length === 0)
    throw new StagecraftError('ARGUMENT_INVALID', `a message published to ${topic} must not be empty`);
  if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES)
    throw new StagecraftError(
      'ARGUMENT_INVALID',
      `a message published to ${topic} is at most ${MAX_MESSAGE_BYTES} bytes`,
    );
  if (
    options.subject !== undefined &&
    (options.subject.length === 0 || options.subject.length > 100 || !/^[\x20-\x7E]+$/.test(options.subject))
  ) {
    throw new StagecraftError('ARGUMENT_INVALID', 'an SNS subject is 1 to 100 printable ASCII characters');
  }
  for (const [name, value] of Object.entries(options.attributes ?? {})) {
    if (!ATTRIBUTE_TYPES.test(value.Type) || typeof value.Value !== 'string') {
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `SNS message attribute ${name} needs a Type (String, String.Array, Number or Binary) and a Value`,
      );
    }
  }
  return {
    messageId: randomUUID(),
    topicArn: topicArn(where, topic),
    message,
    subject: options.subject,
    timestamp: new Date(options.now).toISOString(),
    attributes: options.attributes ?? {},
  };
}

/** A stable subscription ARN for a topic and one subscriber: `<topic arn>:<uuid>`. */
export function subscriptionArn(topicArnText: string, subscriber: string): string {
  const hex = createHash('sha256').update(`${topicArnText}\n${subscriber}`).digest('hex');
  return `${topicArnText}:${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function signing(where: Where, note: Notification, subscription: string) {
  return {
    SignatureVersion: '1',
    Signature: createHash('sha256').update(`${note.messageId}\n${note.message}\n${note.timestamp}`).digest('base64'),
    certUrl: `https://sns.${where.region}.amazonaws.com/SimpleNotificationService-stagecraft-local.pem`,
    unsubscribeUrl: `https://sns.${where.region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscription}`,
  };
}

/** The body SNS writes to a subscribed SQS queue. */
export function toSqsEnvelope(where: Where, note: Notification, subscription: string): string {
  const sign = signing(where, note, subscription);
  return JSON.stringify({
    Type: 'Notification',
    MessageId: note.messageId,
    TopicArn: note.topicArn,
    ...(note.subject === undefined ? {} : { Subject: note.subject }),
    Message: note.message,
    Timestamp: note.timestamp,
    SignatureVersion: sign.SignatureVersion,
    Signature: sign.Signature,
    SigningCertURL: sign.certUrl,
    UnsubscribeURL: sign.unsubscribeUrl,
    ...(Object.keys(note.attributes).length === 0 ? {} : { MessageAttributes: note.attributes }),
  });
}

/** The event SNS invokes a subscribed function with; `Subject` is null when none was given. */
export function toSnsEvent(where: Where, note: Notification, subscription: string): SNSEvent {
  const sign = signing(where, note, subscription);
  const sns: Omit<SNSMessage, 'Subject'> & { Subject: string | null } = {
    Type: 'Notification',
    MessageId: note.messageId,
    TopicArn: note.topicArn,
    Subject: note.subject ?? null,
    Message: note.message,
    Timestamp: note.timestamp,
    SignatureVersion: sign.SignatureVersion,
    Signature: sign.Signature,
    SigningCertUrl: sign.certUrl,
    UnsubscribeUrl: sign.unsubscribeUrl,
    MessageAttributes: note.attributes,
  };
  return {
    Records: [
      { EventVersion: '1.0', EventSubscriptionArn: subscription, EventSource: 'aws:sns', Sns: sns as SNSMessage },
    ],
  };
}
