/**
 * SNS Publish and PublishBatch over the query protocol (what the SDKs speak to SNS): form
 * parameters in, XML out, fanning out through the environment's topics as every other publish.
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 */
import type { SnsMessageAttributes } from '../events/index.js';
import { fault, faultOf } from './fault.js';
import { element, entryParams, members, under, xmlResponse, type WireResponse } from './wire.js';

export const SNS_NS = 'http://sns.amazonaws.com/doc/2010-03-31/';
export const SNS_ACTIONS = new Set(['Publish', 'PublishBatch']);

export interface SnsBackend {
  /** The manifest name of the topic an ARN names; throws NotFound (or AuthorizationError for another environment's). */
  topicByArn(arn: string): string;
  publish(
    topic: string,
    message: string,
    options: { subject?: string; attributes?: SnsMessageAttributes },
  ): { messageId: string };
}

interface PublishInput {
  message: string | undefined;
  subject: string | undefined;
  attributes: SnsMessageAttributes;
  structure: string | undefined;
}

function publishInput(params: URLSearchParams): PublishInput {
  const attributes: SnsMessageAttributes = {};
  for (const entry of members(params, 'MessageAttributes.entry')) {
    const value = under(entry, 'Value');
    const type = value.get('DataType') ?? '';
    const text = type === 'Binary' ? value.get('BinaryValue') : value.get('StringValue');
    if (text === null || text === undefined) {
      throw fault(
        400,
        'InvalidParameterValue',
        `The message attribute '${entry.get('Name') ?? ''}' must contain non-empty message attribute value.`,
      );
    }
    attributes[entry.get('Name') ?? ''] = { Type: type, Value: text };
  }
  return {
    message: params.get('Message') ?? undefined,
    subject: params.get('Subject') ?? undefined,
    attributes,
    structure: params.get('MessageStructure') ?? undefined,
  };
}

function publishOne(backend: SnsBackend, topic: string, input: PublishInput): string {
  if (input.message === undefined) throw fault(400, 'InvalidParameter', 'Invalid parameter: Message');
  let message = input.message;
  if (input.structure === 'json') {
    // A JSON message with one text per protocol; subscribers here are queues and functions, both reading `default`.
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      throw fault(400, 'InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
    }
    const fallback = (parsed as Record<string, unknown> | null)?.['default'];
    if (typeof fallback !== 'string')
      throw fault(
        400,
        'InvalidParameter',
        'Invalid parameter: Message Structure - No default entry in JSON message body',
      );
    message = ((parsed as Record<string, unknown>)['sqs'] as string | undefined) ?? fallback;
  }
  try {
    return backend.publish(topic, message, {
      ...(input.subject === undefined ? {} : { subject: input.subject }),
      ...(Object.keys(input.attributes).length > 0 ? { attributes: input.attributes } : {}),
    }).messageId;
  } catch (error) {
    const wire = faultOf(error, 'InvalidParameter');
    throw fault(wire.status, wire.code, wire.message);
  }
}

function response(action: string, result: string, requestId: string): WireResponse {
  return xmlResponse(
    200,
    `<${action}Response xmlns="${SNS_NS}">${element(`${action}Result`, result, true)}` +
      `${element('ResponseMetadata', element('RequestId', requestId), true)}</${action}Response>`,
  );
}

export function runSns(backend: SnsBackend, params: URLSearchParams, requestId: string): WireResponse {
  const action = params.get('Action') ?? '';
  if (!SNS_ACTIONS.has(action))
    throw fault(400, 'InvalidAction', `${action} is not served by the local SNS endpoint (Publish, PublishBatch)`);
  const arn = params.get('TopicArn') ?? params.get('TargetArn');
  if (!arn)
    throw fault(
      400,
      'InvalidParameter',
      'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
    );
  const topic = backend.topicByArn(arn);
  if (action === 'Publish')
    return response(action, element('MessageId', publishOne(backend, topic, publishInput(params))), requestId);

  const entries = members(params, 'PublishBatchRequestEntries.member');
  if (entries.length === 0) throw fault(400, 'EmptyBatchRequest', "The batch request doesn't contain any entries");
  if (entries.length > 10)
    throw fault(400, 'TooManyEntriesInBatchRequest', 'The batch request contains more entries than permissible');
  const ids = entries.map((entry) => entry.get('Id') ?? '');
  if (new Set(ids).size !== ids.length)
    throw fault(400, 'BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id');
  const successful: string[] = [];
  const failed: string[] = [];
  entries.forEach((entry, index) => {
    const id = ids[index] ?? '';
    try {
      const messageId = publishOne(backend, topic, publishInput(entryParams(entry)));
      successful.push(element('member', element('Id', id) + element('MessageId', messageId), true));
    } catch (error) {
      const wire = faultOf(error, 'InvalidParameter');
      failed.push(
        element(
          'member',
          element('Id', id) +
            element('Code', wire.code) +
            element('Message', wire.message) +
            element('SenderFault', wire.type === 'Sender'),
          true,
        ),
      );
    }
  });
  return response(
    action,
    element('Successful', successful.join(''), true) + element('Failed', failed.join(''), true),
    requestId,
  );
}
