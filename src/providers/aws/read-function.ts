/**
 * Reading a function's configuration (of `$LATEST` or of a version) through GetFunction rather
 * than GetFunctionConfiguration. Both answer the same configuration, but Lambda gives GetFunction
 * a quota of its own (100 calls per second), while GetFunctionConfiguration shares the 15 calls
 * per second of every other control-plane call in the account and region with the publishes and
 * alias moves of every promotion (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests):
 * at that rate a promotion's wall time is its number of such calls over 15.
 */
import { GetFunctionCommand, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import { StagecraftError } from '../../errors.js';
import { isNotFound, providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';

/** The configuration, or undefined when the function (or that version of it) does not exist. */
export async function readFunction(
  clients: AwsClients,
  instance: string,
  qualifier?: string,
): Promise<FunctionConfiguration | undefined> {
  const what = qualifier === undefined ? `function ${instance}` : `version ${qualifier} of ${instance}`;
  try {
    const answer = await clients.lambda.send(
      new GetFunctionCommand({ FunctionName: instance, ...(qualifier === undefined ? {} : { Qualifier: qualifier }) }),
    );
    if (!answer.Configuration)
      throw new StagecraftError(
        'PROVIDER_FAILED',
        `Lambda answered GetFunction for ${what} without its configuration`,
        { hint: 'run the command again' },
      );
    return answer.Configuration;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    if (error instanceof StagecraftError) throw error;
    throw providerError(error, `cannot read ${what}`);
  }
}
