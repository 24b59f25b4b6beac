// HTTP API payload 2.0: the event and the response rules, against the AWS document's examples.
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
import { fromResultV2, toEventV2 } from './payload-v2.js';

interface EventFixture {
  request: RequestFixture;
  context: ContextFixture;
  event: Record<string, unknown>;
}
interface ResponsesFixture {
  cases: Array<{ output: string; response: { statusCode: number; headers: Array<[string, string]>; body: string } }>;
}

describe('toEventV2', () => {
  it('reproduces the 2.0 example of the AWS document', () => {
    const fixture = readFixture<EventFixture>('http-api-v2-doc-example.json');
    const event = toEventV2(toRequest(fixture.request), toContext(fixture.context));
    const delivered = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    expect(delivered).toEqual(fixture.event);
    // The fields in the document's order, so a logged event reads like AWS's.
    expect(Object.keys(delivered)).toEqual(Object.keys(fixture.event));
  });

  it('leaves out cookies, query parameters, path parameters, body and stage variables when there are none', () => {
    const event = toEventV2(gatewayRequest({ headers: [['Host', 'localhost:3000']] }), eventContext());
    const delivered = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    expect(Object.keys(delivered)).toEqual([
      'version',
      'routeKey',
      'rawPath',
      'rawQueryString',
      'headers',
      'requestContext',
      'isBase64Encoded',
    ]);
    expect(event.rawQueryString).toBe('');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext.domainName).toBe('localhost:3000');
    expect(event.requestContext.domainPrefix).toBe('localhost');
  });

  it('moves every Cookie header into cookies, split at semicolons, and drops the header', () => {
    const event = toEventV2(
      gatewayRequest({
        headers: [
          ['Cookie', 'a=1; b=2'],
          ['cookie', 'c=3;d=4;'],
        ],
      }),
      eventContext(),
    );
    expect(event.cookies).toEqual(['a=1', 'b=2', 'c=3', 'd=4']);
    expect(event.headers.cookie).toBeUndefined();
  });

  it('lower-cases header names and joins repeated headers with commas', () => {
    const event = toEventV2(
      gatewayRequest({
        headers: [
          ['X-Multi', 'a'],
          ['x-multi', 'b'],
          ['Accept', 'text/html, application/json'],
        ],
      }),
      eventContext(),
    );
    expect(event.headers['x-multi']).toBe('a,b');
    expect(event.headers.accept).toBe('text/html, application/json');
  });

  it('keeps headers and query parameters named like Object.prototype properties', () => {
    const event = toEventV2(
      gatewayRequest({
        headers: [
          ['Constructor', 'a'],
          ['__proto__', 'b'],
          ['__proto__', 'c'],
        ],
        query: '__proto__=1&constructor=2',
      }),
      eventContext(),
    );
    const delivered = JSON.parse(JSON.stringify(event)) as {
      headers: Record<string, string>;
      queryStringParameters: Record<string, string>;
    };
    expect(Object.hasOwn(delivered.headers, '__proto__') && delivered.headers.constructor).toBe('a');
    expect(Object.getOwnPropertyDescriptor(delivered.headers, '__proto__')?.value).toBe('b,c');
    expect(Object.getOwnPropertyDescriptor(delivered.queryStringParameters, '__proto__')?.value).toBe('1');
    expect(delivered.queryStringParameters.constructor).toBe('2');
  });

  it('drops hop-by-hop headers and gives a chunked body its length', () => {
    const event = toEventV2(
      gatewayRequest({
        method: 'POST',
        headers: [
          ['Connection', 'keep-alive'],
          ['Transfer-Encoding', 'chunked'],
          ['Content-Type', 'text/plain'],
        ],
        body: Buffer.from('hello'),
      }),
      eventContext(),
    );
    expect(event.headers.connection).toBeUndefined();
    expect(event.headers['transfer-encoding']).toBeUndefined();
    expect(event.headers['content-length']).toBe('5');
  });

  it('appends the client to an X-Forwarded-For it brought and keeps its trace header', () => {
    const event = toEventV2(
      gatewayRequest({
        headers: [
          ['X-Forwarded-For', '203.0.113.9'],
          ['X-Amzn-Trace-Id', 'Root=1-own'],
        ],
      }),
      eventContext(),
    );
    expect(event.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(event.headers['x-amzn-trace-id']).toBe('Root=1-own');
    expect(event.headers['x-forwarded-proto']).toBe('http');
    expect(event.headers['x-forwarded-port']).toBe('3000');
  });

  it('decodes query parameters, joins repeated ones with commas and keeps rawQueryString as sent', () => {
    const query = 'tag=a&tag=b%20c&q=x+y&empty&enc%5Bk%5D=%7Bv%7D&bad=%E0%A4%A';
    const event = toEventV2(gatewayRequest({ query }), eventContext());
    expect(event.rawQueryString).toBe(query);
    expect(event.queryStringParameters).toEqual({
      tag: 'a,b c',
      q: 'x y',
      empty: '',
      'enc[k]': '{v}',
      bad: '%E0%A4%A',
    });
  });

  it('hands over the path decoded, stage prefix included, as an HTTP API does', () => {
    const event = toEventV2(
      gatewayRequest({ path: '/dev/files/a%20b/%40c' }),
      eventContext({
        stage: 'dev',
        stagePrefix: '/dev',
        resource: '/files/{proxy+}',
        pathParameters: { proxy: 'a b/@c' },
      }),
    );
    expect(event.rawPath).toBe('/dev/files/a b/@c');
    expect(event.requestContext.http.path).toBe('/dev/files/a b/@c');
    expect(event.requestContext.stage).toBe('dev');
    expect(event.routeKey).toBe('GET /files/{proxy+}');
    expect(event.pathParameters).toEqual({ proxy: 'a b/@c' });
  });

  it.each([
    ['text/plain; charset=utf-8', false],
    ['text/csv', false],
    ['application/json', false],
    ['Application/JSON; charset=UTF-8', false],
    ['application/xml', false],
    ['application/javascript', false],
    ['application/x-www-form-urlencoded', true],
    ['application/octet-stream', true],
    ['image/png', true],
    ['multipart/form-data; boundary=x', true],
    [undefined, true],
  ])('a body of type %s arrives base64-encoded: %s', (type, base64) => {
    const bytes = Buffer.from([0x68, 0x69, 0xff, 0x00]);
    const event = toEventV2(
      gatewayRequest({ method: 'POST', headers: type === undefined ? [] : [['Content-Type', type]], body: bytes }),
      eventContext(),
    );
    expect(event.isBase64Encoded).toBe(base64);
    expect(
      Buffer.from(event.body!, base64 ? 'base64' : 'utf8').equals(base64 ? bytes : Buffer.from(bytes.toString('utf8'))),
    ).toBe(true);
  });
});

describe('fromResultV2', () => {
  it.each(readFixture<ResponsesFixture>('http-api-v2-responses.json').cases)(
    'interprets $output as the document does',
    ({ output, response }) => {
      const result = fromResultV2(output);
      expect({ statusCode: result.statusCode, headers: result.headers, body: result.body.toString() }).toEqual(
        response,
      );
    },
  );

  it('infers a response for any JSON without a statusCode: numbers, null, arrays, objects', () => {
    for (const output of ['42', 'null', '[1,2]', '{"body":"x","headers":{}}']) {
      const result = fromResultV2(output);
      expect(result.statusCode).toBe(200);
      expect(result.body.toString()).toBe(output);
      expect(result.headers).toEqual([['content-type', 'application/json']]);
    }
  });

  it('decodes a base64 body', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const result = fromResultV2(
      JSON.stringify({
        statusCode: 200,
        headers: { 'content-type': 'image/png' },
        body: png.toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(Buffer.from(result.body).equals(png)).toBe(true);
  });

  it('renders number and boolean header values as text, skips null ones and recomputes framing headers', () => {
    const result = fromResultV2(
      JSON.stringify({
        statusCode: '201',
        headers: {
          'x-n': 5,
          'x-b': true,
          'x-null': null,
          'Content-Length': '999',
          'Transfer-Encoding': 'chunked',
          'content-type': 'text/html',
        },
        body: 'hi',
      }),
    );
    expect(result.statusCode).toBe(201);
    expect(result.headers).toEqual([
      ['x-n', '5'],
      ['x-b', 'true'],
      ['content-type', 'text/html'],
    ]);
  });

  it.each([
    ['not JSON', 'undefined'],
    ['an invalid statusCode', '{"statusCode":"abc"}'],
    ['a statusCode out of range', '{"statusCode":99}'],
    ['a body that is not a string', '{"statusCode":200,"body":{"a":1}}'],
    ['headers that are not an object', '{"statusCode":200,"headers":["a"]}'],
    ['a header value that is a list', '{"statusCode":200,"headers":{"vary":["a","b"]}}'],
    ['cookies that are not strings', '{"statusCode":200,"cookies":[1]}'],
  ])('answers %s with 500 Internal Server Error', (_what, output) => {
    const result = fromResultV2(output);
    expect(result.statusCode).toBe(500);
    expect(result.body.toString()).toBe('{"message":"Internal Server Error"}');
    expect(result.headers).toEqual([['content-type', 'application/json']]);
    expect(result.integrationError).toEqual(expect.any(String));
  });
});
