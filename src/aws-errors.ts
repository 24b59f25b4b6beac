/**
 * Turning AWS SDK errors into Stagecraft's one error type, with a hint a person can act on, and
 * telling "does not exist" apart from real failures (each service names it differently).
 */
import { StagecraftError } from './errors.js';

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const NOT_FOUND = new Set(['ResourceNotFoundException', 'NotFound', 'NoSuchKey', 'NoSuchBucket']);

export function errorName(error: unknown): string {
  return (error as SdkError | undefined)?.name ?? '';
}

/** The resource named in the call does not exist (a 404, whatever the service calls it). */
export function isNotFound(error: unknown): boolean {
  const sdk = error as SdkError | undefined;
  return NOT_FOUND.has(sdk?.name ?? '') || sdk?.$metadata?.httpStatusCode === 404;
}

/** CloudFormation says "does not exist" with a ValidationError, not a 404. */
export function isStackMissing(error: unknown): boolean {
  return errorName(error) === 'ValidationError' && /does not exist/.test((error as SdkError).message ?? '');
}

export function isConditionFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** An SDK error as a StagecraftError that says what Stagecraft was doing and what may fix it. */
export function providerError(cause: unknown, doing: string): StagecraftError {
  if (cause instanceof StagecraftError) return cause;
  const sdk = cause as SdkError | undefined;
  const name = sdk?.name ?? 'Error';
  const message = sdk?.message ?? String(cause);
  return new StagecraftError('PROVIDER_FAILED', `${doing}: ${name}: ${message}`, {
    hint: hintFor(name, message, sdk?.code),
    cause,
  });
}

function hintFor(name: string, message: string, code: string | undefined): string {
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return 'give the AWS SDK credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a role; see the README section "Running on AWS"';
  }
  if (/AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${message}`)) {
    return 'the credentials lack a permission Stagecraft needs; the README section "Running on AWS" lists them';
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(message)) {
    return 'the AWS endpoint cannot be reached; check the network, or AWS_ENDPOINT_URL when an emulator stands in for AWS';
  }
  if (/Throttl|TooManyRequests|Rate exceeded/i.test(`${name} ${message}`)) {
    return 'AWS is throttling this account; run the command again in a moment';
  }
  return 'run the command again; if it fails the same way, the message above comes from AWS';
}
