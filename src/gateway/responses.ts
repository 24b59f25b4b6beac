/**
 * The answers API Gateway gives on its own account, byte for byte, and the response-header rules
 * both payload formats share.
 *
 * | situation | HTTP API (2.0 routes) | REST API (1.0 routes) |
 * |---|---|---|
 * | no route | 404 `{"message":"Not Found"}` | the same: one route table serves both |
 * | function error (handler, crash, init, Lambda's own timeout) or a malformed result | 500 `{"message":"Internal Server Error"}` | 502 `{"message": "Internal server error"}` |
 * | Lambda refuses the call (throttled) | 500 as above | 500 `{"message": "Internal server error"}` |
 * | no answer within the integration timeout (30 s / 29 s) | 503 `{"message":"Service Unavailable"}` | 504 `{"message": "Endpoint request timed out"}` |
 * | request body over 10 MB, or an event over Lambda's 6 MB | 413 `{"message":"Request Entity Too Large"}` | 413 `{"message":"Request Too Long"}` |
 *
 * Sources: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html (404),
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html (HTTP API 500),
 * https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html ("If the Lambda API rejects the
 * invocation request, API Gateway returns a 500 error code. If the function runs but returns an error, or returns a
 * response in the wrong format, API Gateway returns a 502"), Lambda's own timeout answered as a function error
 * (500 on an HTTP API: denoland/deno_registry2#87; 502 on REST: apex/up#395), a throttled REST answer with its
 * `x-amzn-ErrorType` in https://repost.aws/questions/QUL-z6rJbmR4meafB7MzYXxw, the HTTP API 503 as AWS sends it (with
 * `apigw-requestid`) in cortexlabs/cortex#1225, the 30 s / 29 s limits in
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html and
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html, and AWS's own emulator
 * (aws/aws-lambda-dotnet, Tools/LambdaTestTool-v2, ApiGatewayResponseExtensions.cs) for the exact bodies.
 */
import type { HttpResponse } from './types.js';

export type GatewayError = 'notFound' | 'functionError' | 'malformed' | 'refused' | 'timeout' | 'tooLarge';
export type ApiFlavor = 'http' | 'rest';

/** API Gateway's payload limit for both API types. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

const REST_ERROR_TYPE = 'InternalServerErrorException';

const ANSWERS: Record<ApiFlavor, Record<GatewayError, [number, string, string?]>> = {
  http: {
    notFound: [404, '{"message":"Not Found"}'],
    functionError: [500, '{"message":"Internal Server Error"}'],
    malformed: [500, '{"message":"Internal Server Error"}'],
    refused: [500, '{"message":"Internal Server Error"}'],
    timeout: [503, '{"message":"Service Unavailable"}'],
    tooLarge: [413, '{"message":"Request Entity Too Large"}'],
  },
  rest: {
    notFound: [404, '{"message":"Not Found"}'],
    functionError: [502, '{"message": "Internal server error"}', REST_ERROR_TYPE],
    malformed: [502, '{"message": "Internal server error"}', REST_ERROR_TYPE],
    refused: [500, '{"message": "Internal server error"}', REST_ERROR_TYPE],
    timeout: [504, '{"message": "Endpoint request timed out"}'],
    tooLarge: [413, '{"message":"Request Too Long"}'],
  },
};

export function errorResponse(error: GatewayError, flavor: ApiFlavor, integrationError?: string): HttpResponse {
  const [statusCode, body, errorType] = ANSWERS[flavor][error];
  const headers: Array<[string, string]> = [['content-type', 'application/json']];
  if (errorType !== undefined) headers.push(['x-amzn-ErrorType', errorType]);
  return { statusCode, headers, body, ...(integrationError === undefined ? {} : { integrationError }) };
}

/**
 * Response headers the gateway computes itself rather than passing on: the length and framing of
 * the body it writes, and hop-by-hop connection headers.
 */
const COMPUTED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export function isComputedHeader(lowerName: string): boolean {
  return COMPUTED.has(lowerName);
}

/** A header value a function may return: a string, a number or a boolean (rendered as text). */
export function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** `200` or `"200"` → 200; anything else → undefined. */
export function statusCodeOf(value: unknown): number | undefined {
  const code = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599 ? code : undefined;
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The body of a function's result: text as it is, bytes when it is base64. */
export function bodyOf(body: string, isBase64Encoded: boolean): string | Buffer {
  return isBase64Encoded ? Buffer.from(body, 'base64') : body;
}
