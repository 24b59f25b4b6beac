/**
 * HTTP API payload format 2.0: the event a function receives and how its result becomes the HTTP
 * response. https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  domainPrefixOf,
  HOP_BY_HOP,
  isTextForHttpApi,
  mediaType,
  ownValue,
  parseQuery,
  requestTime,
  safeDecode,
  setOwn,
  splitCookies,
} from './request-parts.js';
import { bodyOf, errorResponse, headerText, isComputedHeader, isRecord, statusCodeOf } from './responses.js';
import type { EventContext, GatewayRequest, HttpResponse } from './types.js';

export function toEventV2(request: GatewayRequest, context: EventContext): APIGatewayProxyEventV2 {
  // Header names lower-cased; "Duplicate headers are combined with commas" — with no space, as
  // the document's maintainers describe it (awsdocs/amazon-api-gateway-developer-guide#84).
  // Cookie headers become the `cookies` array instead.
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  let chunked = false;
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'cookie') {
      splitCookies(value, (cookies ??= []));
    } else if (HOP_BY_HOP.has(name)) {
      if (name === 'transfer-encoding') chunked = true;
    } else {
      const seen = ownValue(headers, name);
      setOwn(headers, name, seen === undefined ? value : `${seen},${value}`);
    }
  }
  if (chunked && request.body.length > 0 && headers['content-length'] === undefined)
    headers['content-length'] = String(request.body.length);
  // What API Gateway's front end adds on its way in.
  const forwardedFor = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor === undefined ? request.sourceIp : `${forwardedFor}, ${request.sourceIp}`;
  headers['x-forwarded-port'] = String(request.port);
  headers['x-forwarded-proto'] = request.scheme;
  headers['x-amzn-trace-id'] ??= context.traceId;

  const query = parseQuery(request.query);
  let queryStringParameters: Record<string, string> | undefined;
  if (query) {
    queryStringParameters = {};
    for (const [key, values] of query) setOwn(queryStringParameters, key, values.join(','));
  }

  // An HTTP API hands over the path decoded (honojs/hono#2156); with a named stage it includes the
  // stage's prefix, which only a `$default` stage lacks.
  const path = safeDecode(request.path);
  const domainName = headers.host ?? context.defaultDomainName;
  const routeKey = `${context.routeMethod} ${context.resource}`;
  const hasBody = request.body.length > 0;
  const isBase64Encoded = hasBody && !isTextForHttpApi(mediaType(headers['content-type']));

  // One shape for every event: what is absent is undefined, which JSON leaves out — the event
  // only ever leaves as JSON — and a fixed shape keeps building and serializing it fast.
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: request.query,
    cookies,
    headers,
    queryStringParameters,
    requestContext: {
      accountId: context.accountId,
      apiId: context.apiId,
      domainName,
      domainPrefix: domainPrefixOf(domainName),
      http: {
        method: request.method,
        path,
        protocol: request.protocol,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: context.requestId,
      routeKey,
      stage: context.stage,
      time: requestTime(context.time),
      timeEpoch: context.time.getTime(),
    },
    body: hasBody ? request.body.toString(isBase64Encoded ? 'base64' : 'utf8') : undefined,
    pathParameters: context.pathParameters,
    isBase64Encoded,
    // stageVariables: absent, as for a stage that defines none.
  };
  return event;
}

/**
 * How an HTTP API reads the function's result (the raw JSON text Lambda returned):
 * - without a `statusCode` it infers the response: 200, `content-type: application/json`, and the
 *   result as the body — a string result as its text, anything else as the JSON the function returned;
 * - with one, `headers` (string, number or boolean values), `cookies` (each one Set-Cookie
 *   header), `body` (a string) and `isBase64Encoded`; a response without a content type gets
 *   `text/plain; charset=utf-8` (AWS's LambdaTestTool-v2, ApiGatewayResponseExtensions.cs);
 * - anything it cannot read is answered 500, as by the real thing.
 */
export function fromResultV2(payload: string): HttpResponse {
  let result: unknown;
  try {
    result = JSON.parse(payload);
  } catch {
    return errorResponse('malformed', 'http', 'The Lambda function returned a payload that is not JSON');
  }
  if (!isRecord(result) || !('statusCode' in result)) {
    return {
      statusCode: 200,
      headers: [['content-type', 'application/json']],
      body: typeof result === 'string' ? result : payload,
    };
  }

  const statusCode = statusCodeOf(result.statusCode);
  if (statusCode === undefined)
    return errorResponse(
      'malformed',
      'http',
      `The Lambda function returned an invalid statusCode: ${JSON.stringify(result.statusCode)}`,
    );
  const { body, cookies, isBase64Encoded } = result;
  if (body !== undefined && body !== null && typeof body !== 'string')
    return errorResponse('malformed', 'http', 'The Lambda function returned a body that is not a string');
  if (
    cookies !== undefined &&
    cookies !== null &&
    (!Array.isArray(cookies) || cookies.some((cookie) => typeof cookie !== 'string'))
  ) {
    return errorResponse('malformed', 'http', 'The Lambda function returned cookies that are not a list of strings');
  }

  const headers: Array<[string, string]> = [];
  let hasContentType = false;
  if (result.headers !== undefined && result.headers !== null) {
    if (!isRecord(result.headers))
      return errorResponse('malformed', 'http', 'The Lambda function returned headers that are not an object');
    for (const name in result.headers) {
      const value = result.headers[name];
      if (value === null || value === undefined) continue;
      const text = headerText(value);
      if (text === undefined)
        return errorResponse(
          'malformed',
          'http',
          `The Lambda function returned a header value that is not a string: ${name}`,
        );
      const lower = name.toLowerCase();
      if (isComputedHeader(lower)) continue;
      if (lower === 'content-type') hasContentType = true;
      headers.push([name, text]);
    }
  }
  if (!hasContentType) headers.push(['content-type', 'text/plain; charset=utf-8']);
  if (Array.isArray(cookies)) for (const cookie of cookies as string[]) headers.push(['set-cookie', cookie]);

  return { statusCode, headers, body: typeof body === 'string' ? bodyOf(body, isBase64Encoded === true) : '' };
}
