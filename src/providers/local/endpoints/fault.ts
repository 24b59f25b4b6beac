/**
 * AWS errors as the endpoints answer them. A fault travels as the `cause` of a StagecraftError (the
 * one error type), and each protocol file writes it in its own wire shape.
 */
import { StagecraftError } from '../../../errors.js';

export interface Fault {
  status: number;
  /** The error's name as the JSON protocols and the SDKs' exception classes spell it. */
  code: string;
  message: string;
  /** The older code the query protocol answers with (SQS: `AWS.SimpleQueueService.NonExistentQueue`). */
  queryCode?: string;
  /** Whose fault it is: Sender (the request) or Receiver (the service). */
  type: 'Sender' | 'Receiver';
}

export function fault(status: number, code: string, message: string, queryCode?: string): StagecraftError {
  const wire: Fault = {
    status,
    code,
    message,
    type: status >= 500 ? 'Receiver' : 'Sender',
    ...(queryCode ? { queryCode } : {}),
  };
  return new StagecraftError(status === 404 ? 'FUNCTION_UNKNOWN' : 'ARGUMENT_INVALID', message, { cause: wire });
}

/**
 * The fault an error stands for: its own, or, for Stagecraft's checks of a message (bad input),
 * `invalidCode`; anything else is the service's fault.
 */
export function faultOf(error: unknown, invalidCode = 'InvalidParameterValue'): Fault {
  const cause = (error as { cause?: unknown } | undefined)?.cause as Partial<Fault> | undefined;
  if (error instanceof StagecraftError && cause && typeof cause.status === 'number' && typeof cause.code === 'string') {
    return cause as Fault;
  }
  if (error instanceof StagecraftError && error.kind === 'invalid') {
    return { status: 400, code: invalidCode, message: error.message, type: 'Sender' };
  }
  return {
    status: 500,
    code: 'InternalFailure',
    message: (error as Error)?.message ?? String(error),
    type: 'Receiver',
  };
}
