/** The `aws` provider: Lambda, S3, CloudFormation and DynamoDB through the AWS SDK v3. */
export { AwsClients, type AwsCall, type AwsClientOptions } from './clients.js';
export { CallBudget, type CallBudgetOptions } from './call-budget.js';
export { AwsProvider, type AwsProviderDeps, type LedgerWriter } from './aws-provider.js';
export { REVISION_PROBE } from './alias-reads.js';
export { StackDeployer, type StackPlan, type StackChange, type StackState } from './stack.js';
export { synthesize, templateText, templateDigest, type CfnTemplate, type StackManifest } from './template.js';
export { stackName, functionArn } from './aws-names.js';
export { ArtifactBucket } from './artifact-bucket.js';
