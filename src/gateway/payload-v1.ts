/**
 * REST API Lambda proxy integration, payload format 1.0: the event a function receives and how its
 * result becomes the HTTP response.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 *
 * A REST event carries no `version` field (aws/aws-sam-cli#6442), keeps header names as sent, and
 * has every multi-valued field in two forms: the last value, and all values.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import {
  domainPrefixOf,
  HOP_BY_HOP,
  isTextForRestApi,
  mediaType,
  parseQuery,
  requestTime,
  setOwn,
} from './request-parts.js';
import { bodyOf, errorResponse, headerText, isComputedHeader, isRecord, statusCodeOf } from './responses.js';
import type { EventContext, GatewayRequest, HttpResponse } from './types.js';

export function toEventV1(request: GatewayRequest, context: EventContext): APIGatewayProxyEvent {
  // Names keep their case; the same name in another case is the same header.
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const nameOf = new Map<string, string>();
  let chunked = false;
  const add = (name: string, value: string, lower = name.toLowerCase()): void => {
    const known = nameOf.get(lower);
    if (known === undefined) {
      nameOf.set(lower, name);
      setOwn(headers, name, value);
      setOwn(multiValueHeaders, name, [value]);
    } else {
      headers[known] = value;
      multiValueHeaders[known]!.push(value);
    }
  };
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding') chunked = true;
    } else {
      add(name, raw[i + 1]!, lower);
    }
  }
  if (chunked && request.body.length > 0 && !nameOf.has('content-length'))
    add('Content-Length', String(request.body.length));
  // What API Gateway's front end adds on its way in (the document's example shows them).
  const forwardedFor = nameOf.get('x-forwarded-for');
  if (forwardedFor === undefined) add('X-Forwarded-For', request.sourceIp);
  else {
    const all = `${multiValueHeaders[forwardedFor]!.join(', ')}, ${request.sourceIp}`;
    headers[forwardedFor] = all;
    multiValueHeaders[forwardedFor] = [all];
  }
  if (!nameOf.has('x-forwarded-port')) add('X-Forwarded-Port', String(request.port));
  if (!nameOf.has('x-forwarded-proto')) add('X-Forwarded-Proto', request.scheme);
  if (!nameOf.has('x-amzn-trace-id')) add('X-Amzn-Trace-Id', context.traceId);

  const query = parseQuery(request.query);
  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  if (query) {
    queryStringParameters = {};
    multiValueQueryStringParameters = {};
    for (const [key, values] of query) {
      setOwn(queryStringParameters, key, values[values.length - 1]!);
      setOwn(multiValueQueryStringParameters, key, values);
    }
  }

  const host = nameOf.get('host');
  const domainName = host === undefined ? context.defaultDomainName : headers[host]!;
  const contentType = nameOf.get('content-type');
  const hasBody = request.body.length > 0;
  const isBase64Encoded =
    hasBody && !isTextForRestApi(mediaType(contentType === undefined ? undefined : headers[contentType]));
  const userAgent = nameOf.get('user-agent');

  return {
    resource: context.resource,
    // The path inside the stage, still percent-encoded; requestContext.path is the whole path as sent.
    path: request.path.length === context.stagePrefix.length ? '/' : request.path.slice(context.stagePrefix.length),
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: context.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      resourceId: context.resourceId,
      resourcePath: context.resource,
      httpMethod: request.method,
      extendedRequestId: context.extendedRequestId,
      requestTime: requestTime(context.time),
      path: request.path,
      accountId: context.accountId,
      protocol: request.protocol,
      stage: context.stage,
      domainPrefix: domainPrefixOf(domainName),
      requestTimeEpoch: context.time.getTime(),
      requestId: context.requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: request.sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: userAgent === undefined ? null : headers[userAgent]!,
        user: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
      domainName,
      apiId: context.apiId,
      authorizer: undefined,
    },
    body: hasBody ? request.body.toString(isBase64Encoded ? 'base64' : 'utf8') : null,
    isBase64Encoded,
  };
}

/**
 * How a REST API reads the function's result: `statusCode` is required; `headers` and
 * `multiValueHeaders` are merged — for a name in both, the values of `multiValueHeaders` — and a
 * response without a content type gets `application/json` (unless the function set it to null,
 * aws/aws-sam-cli#1218); `body` must be a string; "If the function output is of a different
 * format, API Gateway returns a 502 Bad Gateway error response".
 */
export function fromResultV1(payload: string): HttpResponse {
  let result: unknown;
  try {
    result = JSON.parse(payload);
  } catch {
    return errorResponse('malformed', 'rest', 'The Lambda function returned a payload that is not JSON');
  }
  if (!isRecord(result)) return errorResponse('malformed', 'rest', 'Malformed Lambda proxy response: not an object');
  const statusCode = statusCodeOf(result.statusCode);
  if (statusCode === undefined)
    return errorResponse(
      'malformed',
      'rest',
      `Malformed Lambda proxy response: statusCode ${JSON.stringify(result.statusCode)}`,
    );
  const { body, isBase64Encoded } = result;
  if (body !== undefined && body !== null && typeof body !== 'string')
    return errorResponse('malformed', 'rest', 'Malformed Lambda proxy response: body is not a string');

  const merged = new Map<string, { name: string; values: string[]; multi: boolean }>();
  let contentTypeNulled = false;
  const { headers, multiValueHeaders } = result;
  if (multiValueHeaders !== undefined && multiValueHeaders !== null) {
    if (!isRecord(multiValueHeaders))
      return errorResponse('malformed', 'rest', 'Malformed Lambda proxy response: multiValueHeaders is not an object');
    for (const name in multiValueHeaders) {
      const list = multiValueHeaders[name];
      if (list === null || list === undefined) continue;
      if (!Array.isArray(list))
        return errorResponse(
          'malformed',
          'rest',
          `Malformed Lambda proxy response: multiValueHeaders.${name} is not a list`,
        );
      const values: string[] = [];
      for (const value of list) {
        if (value === null || value === undefined) continue;
        const text = headerText(value);
        if (text === undefined)
          return errorResponse('malformed', 'rest', `Malformed Lambda proxy response: multiValueHeaders.${name}`);
        values.push(text);
      }
      const lower = name.toLowerCase();
      const seen = merged.get(lower);
      if (seen) seen.values.push(...values);
      else merged.set(lower, { name, values, multi: true });
    }
  }
  if (headers !== undefined && headers !== null) {
    if (!isRecord(headers))
      return errorResponse('malformed', 'rest', 'Malformed Lambda proxy response: headers is not an object');
    for (const name in headers) {
      const value = headers[name];
      const lower = name.toLowerCase();
      if (value === null || value === undefined) {
        if (lower === 'content-type') contentTypeNulled = true;
        continue;
      }
      const text = headerText(value);
      if (text === undefined)
        return errorResponse('malformed', 'rest', `Malformed Lambda proxy response: headers.${name} is not a string`);
      const seen = merged.get(lower);
      if (seen?.multi) continue;
      if (seen) seen.values.push(text);
      else merged.set(lower, { name, values: [text], multi: false });
    }
  }

  const out: Array<[string, string]> = [];
  for (const [lower, { name, values }] of merged) {
    if (isComputedHeader(lower)) continue;
    for (const value of values) out.push([name, value]);
  }
  if (!merged.has('content-type') && !contentTypeNulled) out.push(['Content-Type', 'application/json']);
  return { statusCode, headers: out, body: typeof body === 'string' ? bodyOf(body, isBase64Encoded === true) : '' };
}
