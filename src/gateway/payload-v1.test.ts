// REST API payload 1.0 (Lambda proxy integration): the event and the response rules, against the AWS document.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  eventContext,
  gatewayRequest,
  readFixture,
  toContext,
  toRequest,
  type ContextFixture,
  type RequestFixture,
} from '../../test/fixtures/gateway/support.js';
import { fromResultV1, toEventV1 } from './payload-v1.js';

interface EventFixture {
  request: RequestFixture;
  context: ContextFixture;
  event: Record<string, unknown>;
}

const restContext = eventContext({ stage: 'dev', requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef' });

describe('toEventV1', () => {
  it('reproduces the input-format example of the AWS document', () => {
    const fixture = readFixture<EventFixture>('rest-v1-doc-example.json');
    const event = toEventV1(toRequest(fixture.request), toContext(fixture.context));
    expect(JSON.parse(JSON.stringify(event))).toEqual(fixture.event);
    expect(Object.keys(event)).toEqual(Object.keys(fixture.event));
  });

  it('has no version field, as REST events have none (aws/aws-sam-cli#6442)', () => {
    expect('version' in toEventV1(gatewayRequest(), restContext)).toBe(false);
  });

  it('uses null, not absence, for what the request lacks', () => {
    const event = toEventV1(gatewayRequest({ path: '/health' }), restContext);
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
    expect(event.pathParameters).toBeNull();
    expect(event.stageVariables).toBeNull();
    expect(event.body).toBeNull();
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext.identity.userAgent).toBeNull();
    expect(JSON.stringify(event)).not.toContain('"authorizer"');
  });

  it('keeps header names as sent: the last value in headers, all of them in multiValueHeaders', () => {
    const event = toEventV1(
      gatewayRequest({
        headers: [
          ['X-Multi', 'a'],
          ['x-multi', 'b'],
          ['Cookie', 'a=1; b=2'],
        ],
      }),
      restContext,
    );
    expect(event.headers['X-Multi']).toBe('b');
    expect(event.multiValueHeaders['X-Multi']).toEqual(['a', 'b']);
    expect(event.headers['x-multi']).toBeUndefined();
    expect(event.headers.Cookie).toBe('a=1; b=2');
  });

  it('keeps headers and query parameters named __proto__', () => {
    const event = toEventV1(gatewayRequest({ headers: [['__proto__', 'a']], query: '__proto__=1' }), restContext);
    const delivered = JSON.parse(JSON.stringify(event)) as APIGatewayProxyEvent;
    expect(Object.getOwnPropertyDescriptor(delivered.headers, '__proto__')?.value).toBe('a');
    expect(Object.getOwnPropertyDescriptor(delivered.multiValueHeaders, '__proto__')?.value).toEqual(['a']);
    expect(Object.getOwnPropertyDescriptor(delivered.multiValueQueryStringParameters, '__proto__')?.value).toEqual([
      '1',
    ]);
  });

  it('gives the last value of a repeated query parameter in queryStringParameters and all of them in the multi-value field', () => {
    const event = toEventV1(gatewayRequest({ query: 'tag=a&tag=b&sort=-+createdAt' }), restContext);
    expect(event.queryStringParameters).toEqual({ tag: 'b', sort: '- createdAt' });
    expect(event.multiValueQueryStringParameters).toEqual({ tag: ['a', 'b'], sort: ['- createdAt'] });
  });

  it('gives the path inside the stage as sent, and the whole path in requestContext', () => {
    const event = toEventV1(gatewayRequest({ path: '/dev/files/a%20b' }), {
      ...restContext,
      stagePrefix: '/dev',
      resource: '/files/{name}',
      pathParameters: { name: 'a b' },
    });
    expect(event.path).toBe('/files/a%20b');
    expect(event.requestContext.path).toBe('/dev/files/a%20b');
    expect(event.resource).toBe('/files/{name}');
    expect(event.requestContext.resourcePath).toBe('/files/{name}');
    expect(event.pathParameters).toEqual({ name: 'a b' });
    expect(toEventV1(gatewayRequest({ path: '/dev' }), { ...restContext, stagePrefix: '/dev' }).path).toBe('/');
  });

  it.each([
    ['application/json', false],
    ['application/x-www-form-urlencoded', false],
    ['application/problem+json', false],
    ['text/html', false],
    ['image/png', true],
    ['application/octet-stream', true],
  ])('a body of type %s arrives base64-encoded: %s', (type, base64) => {
    const event = toEventV1(
      gatewayRequest({ method: 'POST', headers: [['Content-Type', type]], body: Buffer.from('a=1') }),
      restContext,
    );
    expect(event.isBase64Encoded).toBe(base64);
    expect(event.body).toBe(base64 ? Buffer.from('a=1').toString('base64') : 'a=1');
  });
});

describe('fromResultV1', () => {
  it('maps the output format of the AWS document', () => {
    const result = fromResultV1(
      JSON.stringify({
        isBase64Encoded: false,
        statusCode: 200,
        headers: { 'x-custom-header': 'my custom header value' },
        multiValueHeaders: { 'Set-Cookie': ['a=1; Path=/', 'b=2; Path=/'] },
        body: '{"message":"Hello World!"}',
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(result.headers).toEqual([
      ['Set-Cookie', 'a=1; Path=/'],
      ['Set-Cookie', 'b=2; Path=/'],
      ['x-custom-header', 'my custom header value'],
      ['Content-Type', 'application/json'],
    ]);
    expect(result.body.toString()).toBe('{"message":"Hello World!"}');
  });

  it('takes a name present in both header fields from multiValueHeaders only', () => {
    // serverless-http sends an array header in both forms: once joined, once as the list.
    const result = fromResultV1(
      JSON.stringify({
        statusCode: 200,
        headers: { vary: 'Origin, Accept', 'content-type': 'text/plain' },
        multiValueHeaders: { Vary: ['Origin', 'Accept'] },
        body: '',
      }),
    );
    expect(result.headers).toEqual([
      ['Vary', 'Origin'],
      ['Vary', 'Accept'],
      ['content-type', 'text/plain'],
    ]);
  });

  it('leaves the content type out when the function set it to null (aws/aws-sam-cli#1218)', () => {
    const result = fromResultV1('{"statusCode":204,"headers":{"Content-Type":null}}');
    expect(result.headers).toEqual([]);
    expect(result.body.length).toBe(0);
  });

  it('decodes a base64 body', () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    const result = fromResultV1(
      JSON.stringify({
        statusCode: 200,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes.toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(Buffer.from(result.body).equals(bytes)).toBe(true);
  });

  it.each([
    ['not JSON', 'oops'],
    ['a string', '"Hello from Lambda!"'],
    ['an object without statusCode', '{"body":"x"}'],
    ['null', 'null'],
    ['a body that is not a string', '{"statusCode":200,"body":{"a":1}}'],
    ['multiValueHeaders that are not lists', '{"statusCode":200,"multiValueHeaders":{"a":"b"}}'],
    ['a header that is an object', '{"statusCode":200,"headers":{"a":{}}}'],
  ])('answers %s with 502 {"message": "Internal server error"}', (_what, output) => {
    const result = fromResultV1(output);
    expect(result.statusCode).toBe(502);
    expect(result.body.toString()).toBe('{"message": "Internal server error"}');
    expect(result.headers).toEqual([
      ['content-type', 'application/json'],
      ['x-amzn-ErrorType', 'InternalServerErrorException'],
    ]);
  });
});
