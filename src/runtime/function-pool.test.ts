// The books of one function instance: which versions it still has to remember.
import { describe, expect, it } from 'vitest';
import { ExecutionEnvironment } from './execution-environment.js';
import { FunctionPool } from './function-pool.js';
import type { FunctionSpec } from './types.js';

const spec: FunctionSpec = {
  functionName: 'shop-api-dev',
  version: '1',
  invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-api-dev',
  codeDir: '/nowhere',
  handler: 'index.handler',
  runtime: 'nodejs20.x',
  memoryMb: 128,
  timeoutSec: 3,
  environment: {},
  region: 'us-east-1',
};

describe('function pool books', () => {
  it('forgets versions with nothing idle, running, starting or waiting, and keeps the others', () => {
    const pool = new FunctionPool('shop-api-dev');
    pool.booksOf('v1');
    pool.booksOf('v2').running = 1;
    pool.booksOf('v3').starting = 1;
    pool.booksOf('v4').waiters.push({ since: 0, take: () => undefined });
    pool.booksOf('v5');
    pool.putIdle(new ExecutionEnvironment(spec), 'v5', 0); // never started: idle books need no live process
    pool.forgetUnusedVersions();
    expect([...pool.versions.keys()]).toEqual(['v2', 'v3', 'v4', 'v5']);
    pool.takeAllIdle();
    pool.forgetUnusedVersions();
    expect([...pool.versions.keys()]).toEqual(['v2', 'v3', 'v4']);
  });
});
