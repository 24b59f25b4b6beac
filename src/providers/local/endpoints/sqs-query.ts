/**
 * SQS's query protocol (older SDKs): form parameters in, XML out. The parameters are read into the
 * JSON protocol's shapes, so both protocols run the same operations.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-making-api-requests-xml.html
 */
import type { Fault } from './fault.js';
import { element, entryParams, members, under, xmlResponse, type WireResponse } from './wire.js';

const NS = 'http://queue.amazonaws.com/doc/2012-11-05/';

function attributesFrom(params: URLSearchParams, prefix: string): Record<string, unknown> | undefined {
  const list = members(params, prefix);
  if (list.length === 0) return undefined;
  return Object.fromEntries(
    list.map((entry) => {
      const value = under(entry, 'Value');
      return [
        entry.get('Name') ?? '',
        {
          DataType: value.get('DataType') ?? undefined,
          ...(value.has('StringValue') ? { StringValue: value.get('StringValue') } : {}),
          ...(value.has('BinaryValue') ? { BinaryValue: value.get('BinaryValue') } : {}),
        },
      ];
    }),
  );
}

function plain(params: URLSearchParams): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const name of [
    'QueueUrl',
    'QueueName',
    'MessageBody',
    'ReceiptHandle',
    'DelaySeconds',
    'MaxNumberOfMessages',
    'VisibilityTimeout',
    'WaitTimeSeconds',
    'MessageGroupId',
    'MessageDeduplicationId',
    'Id',
  ]) {
    if (params.has(name)) input[name] = params.get(name);
  }
  const attributes = attributesFrom(params, 'MessageAttribute');
  if (attributes) input['MessageAttributes'] = attributes;
  for (const [list, key] of [
    ['AttributeName', 'AttributeNames'],
    ['MessageAttributeName', 'MessageAttributeNames'],
    ['MessageSystemAttributeName', 'MessageSystemAttributeNames'],
  ] as const) {
    const names = [...params.entries()].filter(([name]) => name.startsWith(`${list}.`)).map(([, value]) => value);
    if (names.length > 0) input[key] = names;
  }
  return input;
}

export function fromSqsQuery(
  params: URLSearchParams,
  path: string,
): { operation: string; input: Record<string, unknown> } {
  const operation = params.get('Action') ?? '';
  const input = plain(params);
  // The queue URL may be the request's path instead of a parameter.
  if (input['QueueUrl'] === undefined && path !== '/' && path !== '') input['QueueUrl'] = path;
  for (const prefix of ['SendMessageBatchRequestEntry', 'DeleteMessageBatchRequestEntry']) {
    const entries = members(params, prefix);
    if (entries.length > 0) input['Entries'] = entries.map((entry) => plain(entryParams(entry)));
  }
  return { operation, input };
}

function attributeXml(
  name: string,
  attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>,
): string {
  return Object.entries(attributes)
    .map(([key, value]) =>
      element(
        name,
        element('Name', key) +
          element(
            'Value',
            [
              value.StringValue === undefined ? '' : element('StringValue', value.StringValue),
              value.BinaryValue === undefined ? '' : element('BinaryValue', value.BinaryValue),
              element('DataType', value.DataType),
            ].join(''),
            true,
          ),
        true,
      ),
    )
    .join('');
}

function mapXml(name: string, map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {})
    .map(([key, value]) => element(name, element('Name', key) + element('Value', value), true))
    .join('');
}

type Row = Record<string, unknown>;

function fields(row: Row, names: readonly string[]): string {
  return names
    .filter((name) => row[name] !== undefined)
    .map((name) => element(name, row[name] as string))
    .join('');
}

function resultBody(operation: string, output: Row): string {
  switch (operation) {
    case 'SendMessage':
      return fields(output, ['MessageId', 'MD5OfMessageBody', 'MD5OfMessageAttributes']);
    case 'GetQueueUrl':
      return fields(output, ['QueueUrl']);
    case 'GetQueueAttributes':
      return mapXml('Attribute', output['Attributes'] as Record<string, string> | undefined);
    case 'ReceiveMessage':
      return ((output['Messages'] ?? []) as Row[])
        .map((message) =>
          element(
            'Message',
            [
              fields(message, ['MessageId', 'ReceiptHandle', 'MD5OfBody', 'Body']),
              mapXml('Attribute', message['Attributes'] as Record<string, string> | undefined),
              fields(message, ['MD5OfMessageAttributes']),
              attributeXml(
                'MessageAttribute',
                (message['MessageAttributes'] ?? {}) as Parameters<typeof attributeXml>[1],
              ),
            ].join(''),
            true,
          ),
        )
        .join('');
    case 'SendMessageBatch':
    case 'DeleteMessageBatch':
      return [
        ...((output['Successful'] ?? []) as Row[]).map((row) =>
          element(
            `${operation}ResultEntry`,
            fields(row, ['Id', 'MessageId', 'MD5OfMessageBody', 'MD5OfMessageAttributes']),
            true,
          ),
        ),
        ...((output['Failed'] ?? []) as Row[]).map((row) =>
          element('BatchResultErrorEntry', fields(row, ['Id', 'SenderFault', 'Code', 'Message']), true),
        ),
      ].join('');
    default:
      return '';
  }
}

export function toSqsQuery(operation: string, output: Row, requestId: string): WireResponse {
  const result = resultBody(operation, output);
  return xmlResponse(
    200,
    `<${operation}Response xmlns="${NS}">${
      result === '' && !['ReceiveMessage', 'GetQueueAttributes'].includes(operation)
        ? ''
        : element(`${operation}Result`, result, true)
    }${element('ResponseMetadata', element('RequestId', requestId), true)}</${operation}Response>`,
  );
}

export function queryFault(wire: Fault, requestId: string, ns = NS): WireResponse {
  const error =
    element('Type', wire.type) +
    element('Code', wire.queryCode ?? wire.code) +
    element('Message', wire.message) +
    '<Detail/>';
  return xmlResponse(
    wire.status,
    `<ErrorResponse xmlns="${ns}">${element('Error', error, true)}${element('RequestId', requestId)}</ErrorResponse>`,
  );
}
