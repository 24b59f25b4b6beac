/**
 * Artifacts in S3, keyed by their sha256: `s3://<bucket>/artifacts/<sha256>.zip`. An artifact is
 * uploaded once — by the first environment that needs it — and every later environment's
 * function code comes from that same object, so a release promoted to prod runs the bytes built
 * for dev (DESIGN §5 invariant 1). The upload carries the SHA-256 checksum so that S3 itself
 * refuses bytes that do not match the name
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html); Lambda's
 * `CodeSha256` is checked again when the code is installed.
 */
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import type { ArtifactStore } from '../../release/index.js';
import { StagecraftError } from '../../errors.js';
import { errorName, isNotFound, providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';
import { hexToCodeSha } from './metadata.js';

export interface ArtifactLocation {
  bucket: string;
  key: string;
}

export interface ArtifactBucketOptions {
  clients: AwsClients;
  artifacts: ArtifactStore;
  /** Default: `stagecraft-<account>-<region>`, one bucket per account and region for every app. */
  bucket?: string | undefined;
  progress?: (message: string) => void;
}

export class ArtifactBucket {
  /** Artifacts known to be in the bucket already: checked once per process. */
  private readonly present = new Set<string>();
  private bucketName: Promise<string> | undefined;

  constructor(private readonly options: ArtifactBucketOptions) {}

  name(): Promise<string> {
    this.bucketName ??=
      this.options.bucket !== undefined
        ? Promise.resolve(this.options.bucket)
        : Promise.all([this.options.clients.account(), this.options.clients.region()]).then(
            ([account, region]) => `stagecraft-${account}-${region}`,
          );
    return this.bucketName;
  }

  static keyOf(sha256: string): string {
    return `artifacts/${sha256}.zip`;
  }

  /** Whether the bucket holds the artifact (once yes, always yes: it is never rewritten). */
  async has(sha256: string): Promise<boolean> {
    if (this.present.has(sha256)) return true;
    const bucket = await this.name();
    try {
      await this.options.clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: ArtifactBucket.keyOf(sha256) }));
    } catch (error) {
      // A bucket not created yet holds nothing.
      if (isNotFound(error) || errorName(error) === 'NoSuchBucket') return false;
      throw providerError(error, `cannot look for artifact ${sha256} in s3://${bucket}`);
    }
    this.present.add(sha256);
    return true;
  }

  /** Makes sure the artifact is in the bucket, uploading it from the local store only when it is not. */
  async ensure(sha256: string, fn: string): Promise<ArtifactLocation> {
    const bucket = await this.name();
    const key = ArtifactBucket.keyOf(sha256);
    if (this.present.has(sha256)) return { bucket, key };
    if (await this.has(sha256)) return { bucket, key };
    if (!this.options.artifacts.has(sha256)) {
      throw new StagecraftError(
        'ARTIFACT_CORRUPT',
        `artifact ${sha256} of ${fn} is neither in s3://${bucket} nor in the local artifact store`,
        {
          hint: 'run `stagecraft build` on the machine that built this release (same inputs give the same artifact), then deploy again',
        },
      );
    }
    const body = readFileSync(this.options.artifacts.pathOf(sha256));
    this.options.progress?.(
      `  uploading ${fn} artifact ${sha256.slice(0, 12)} (${body.length} bytes) to s3://${bucket}`,
    );
    await this.put(bucket, key, body, sha256)
      .catch(async (error: unknown) => {
        if (errorName(error) !== 'NoSuchBucket') throw error;
        await this.createBucket(bucket);
        await this.put(bucket, key, body, sha256);
      })
      .catch((error: unknown) => {
        throw providerError(error, `cannot upload artifact ${sha256} to s3://${bucket}/${key}`);
      });
    this.present.add(sha256);
    return { bucket, key };
  }

  private async put(bucket: string, key: string, body: Buffer, sha256: string): Promise<void> {
    await this.options.clients.s3
      .send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: 'application/zip',
          ChecksumSHA256: hexToCodeSha(sha256),
          // Written once: a second writer of the same name writes the same bytes, and S3 keeps the first.
          IfNoneMatch: '*',
        }),
      )
      .catch((error: unknown) => {
        // 412: another process uploaded the same artifact between our check and our write.
        if (
          errorName(error) === 'PreconditionFailed' ||
          (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412
        )
          return;
        throw error;
      });
  }

  private async createBucket(bucket: string): Promise<void> {
    const region = await this.options.clients.region();
    this.options.progress?.(`  creating the artifact bucket s3://${bucket}`);
    // us-east-1 is the one region that refuses an explicit LocationConstraint
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html#API_CreateBucket_RequestSyntax).
    await this.options.clients.s3
      .send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
        }),
      )
      .catch((error: unknown) => {
        if (errorName(error) === 'BucketAlreadyOwnedByYou') return;
        throw error;
      });
  }
}
