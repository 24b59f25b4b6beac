/**
 * Config layering and references: manifest < environment < function, `${env:…}` with and
 * without a default, `${secret:…}` pinned to a revision in what is stored, and the views
 * `config show` builds on.
 */
import { describe, expect, it } from 'vitest';
import { describeConfig, resolveConfig, secretReferences } from './config.js';
import { parseManifest } from './parse.js';
import { looksLikeSecretKey } from './secret-literals.js';
import { thrown } from '../../test/helpers/thrown.js';

const { manifest } = parseManifest(
  `
app: shop
config:
  LOG_LEVEL: info
  SHARED: manifest
  REGION: "\${env:DEPLOY_REGION, eu-west-1}"
  URL: "https://\${env:API_HOST}/v1"
environments:
  - name: dev
    config: { LOG_LEVEL: debug, SHARED: dev }
  - name: prod
    config:
      PAYMENT_KEY: "\${secret:payment-key}"
      DB_URL: "postgres://app:\${secret:db-password}@db:5432/app?region=\${env:DEPLOY_REGION, eu-west-1}"
functions:
  api: { handler: src/api.handler, config: { SHARED: function, ONLY_API: "yes" } }
  worker: { handler: src/worker.handler }
resources:
  queues: { orders-dlq: {} }
`,
  { file: 'stagecraft.yml' },
);

const secrets: Record<string, { value: string; revision: number }> = {
  'payment-key': { value: 'pk-live-1', revision: 4 },
  'db-password': { value: 'p@ss/w0rd', revision: 9 },
};
const sources = (env: Record<string, string> = { API_HOST: 'api.test' }, store = secrets) => ({
  env: (name: string) => env[name],
  secret: (name: string) => store[name],
});

describe('resolveConfig', () => {
  it('refuses variables over Lambda’s 4 KB once secrets are resolved, naming the largest keys', () => {
    const big = { ...secrets, 'payment-key': { value: 'k'.repeat(4100), revision: 5 } };
    expect(
      thrown(() => resolveConfig(manifest, 'prod', 'api', 'r1-abc', sources({ API_HOST: 'h' }, big))),
    ).toMatchObject({
      code: 'MANIFEST_INVALID',
      message: expect.stringMatching(
        /^function api in prod: environment variables take \d+ bytes, over Lambda's 4096-byte \(4 KB\) total; largest: PAYMENT_KEY \(4116 bytes\), DB_URL/,
      ),
    });
  });

  it('layers manifest < environment < function and says where each value comes from', () => {
    const api = resolveConfig(manifest, 'dev', 'api', 'r1-abc', sources());
    expect(api.values).toMatchObject({
      LOG_LEVEL: 'debug',
      SHARED: 'function',
      ONLY_API: 'yes',
      REGION: 'eu-west-1',
      URL: 'https://api.test/v1',
    });
    expect(api.sources['LOG_LEVEL']).toMatchObject({
      layer: 'environment',
      path: 'environments[dev].config.LOG_LEVEL',
    });
    expect(api.sources['SHARED']).toMatchObject({ layer: 'function', path: 'functions.api.config.SHARED' });
    expect(api.sources['REGION']).toMatchObject({
      layer: 'manifest',
      path: 'config.REGION',
      raw: '${env:DEPLOY_REGION, eu-west-1}',
    });
    expect(api.sources['STAGECRAFT_QUEUE_ORDERS_DLQ']).toMatchObject({ layer: 'stagecraft' });
    const worker = resolveConfig(manifest, 'dev', 'worker', 'r1-abc', sources());
    expect(worker.values).toMatchObject({
      SHARED: 'dev',
      STAGECRAFT_ENV: 'dev',
      STAGECRAFT_QUEUE_ORDERS_DLQ: 'shop-orders-dlq-dev',
    });
    expect(worker.values['ONLY_API']).toBeUndefined();
    expect(
      resolveConfig(manifest, 'dev', 'api', 'r1-abc', sources({ API_HOST: 'h', DEPLOY_REGION: 'us-west-2' })).values[
        'REGION'
      ],
    ).toBe('us-west-2');
  });

  it('pins each secret to its revision in what is stored; the value reaches only `values`', () => {
    const prod = resolveConfig(manifest, 'prod', 'api', 'r1-abc', sources());
    expect(prod.values['PAYMENT_KEY']).toBe('pk-live-1');
    expect(prod.values['DB_URL']).toBe('postgres://app:p@ss/w0rd@db:5432/app?region=eu-west-1');
    expect(prod.stored['PAYMENT_KEY']).toBe('${secret:payment-key@4}');
    expect(prod.stored['DB_URL']).toBe('postgres://app:${secret:db-password@9}@db:5432/app?region=eu-west-1');
    expect(prod.secrets.sort()).toEqual(['p@ss/w0rd', 'pk-live-1']);
    const text = JSON.stringify({ stored: prod.stored, digest: prod.digest, sources: prod.sources });
    for (const { value } of Object.values(secrets)) expect(text).not.toContain(value);
  });

  it('changes the digest when a value or a secret revision changes, and only then', () => {
    const base = resolveConfig(manifest, 'prod', 'api', 'r1-abc', sources()).digest;
    expect(resolveConfig(manifest, 'prod', 'api', 'r1-abc', sources()).digest).toBe(base);
    const rotated = { ...secrets, 'payment-key': { value: 'pk-live-2', revision: 5 } };
    expect(resolveConfig(manifest, 'prod', 'api', 'r1-abc', sources(undefined, rotated)).digest).not.toBe(base);
    expect(resolveConfig(manifest, 'prod', 'api', 'r1-abc', sources({ API_HOST: 'other' })).digest).not.toBe(base);
  });

  it('names every reference without a value, where it is used, and how to give it one', () => {
    const error = thrown(() => resolveConfig(manifest, 'prod', 'api', 'r1-abc', sources({}, {})));
    expect(error.code).toBe('CONFIG_UNRESOLVED');
    expect(error.kind).toBe('invalid');
    expect(error.details).toEqual([
      'config.URL: ${env:API_HOST} has no value for environment prod',
      'environments[prod].config.PAYMENT_KEY: ${secret:payment-key} has no value for environment prod',
      'environments[prod].config.DB_URL: ${secret:db-password} has no value for environment prod',
    ]);
    expect(error.hint).toContain('set API_HOST in the environment of this command');
    expect(error.hint).toContain('`stagecraft secret set prod payment-key`, `stagecraft secret set prod db-password`');
    const one = thrown(() => resolveConfig(manifest, 'dev', 'api', 'r1-abc', sources({})));
    expect(one.message).toBe('${env:API_HOST} has no value for environment dev (config.URL, function api)');
  });

  it('refuses an environment variable whose value holds a secret reference', () => {
    const error = thrown(() =>
      resolveConfig(manifest, 'dev', 'api', 'r1', sources({ API_HOST: '${secret:payment-key@4}' })),
    );
    expect(error.message).toContain('the value of API_HOST contains "${secret:"');
  });
});

describe('describeConfig and secretReferences', () => {
  it('masks secrets, keeps going past missing references and lists them', () => {
    const entries = describeConfig(
      manifest,
      'prod',
      'api',
      { env: () => undefined, secretSet: (name) => name === 'payment-key' },
      'r3-x',
    );
    const byKey = Object.fromEntries(entries.map((entry) => [entry.key, entry]));
    expect(byKey['PAYMENT_KEY']).toMatchObject({ value: '****', secret: true, missing: [] });
    expect(byKey['DB_URL']).toMatchObject({ value: undefined, secret: true, missing: ['${secret:db-password}'] });
    expect(byKey['URL']).toMatchObject({ value: undefined, missing: ['${env:API_HOST}'] });
    expect(byKey['REGION']).toMatchObject({ value: 'eu-west-1', missing: [] });
    expect(byKey['STAGECRAFT_RELEASE']).toMatchObject({ value: 'r3-x', source: { layer: 'stagecraft' } });
  });

  it('finds which secrets an environment uses, and where', () => {
    expect(Object.fromEntries(secretReferences(manifest, 'prod'))).toEqual({
      'payment-key': ['environments[prod].config.PAYMENT_KEY'],
      'db-password': ['environments[prod].config.DB_URL'],
    });
    expect(secretReferences(manifest, 'dev').size).toBe(0);
  });
});

describe('looksLikeSecretKey', () => {
  it.each([
    ['DB_PASSWORD', true],
    ['STRIPE_API_KEY', true],
    ['githubToken', true],
    ['webhookSecret', true],
    ['SENTRY_DSN', true],
    ['PRIVATE_KEY', true],
    ['TOKEN_TTL', false],
    ['SECRET_ARN', false],
    ['PASSWORD_MIN_LENGTH', false],
    ['PARTITION_KEY', false],
    ['LOG_LEVEL', false],
    ['AUTH_MODE', false],
  ])('%s → %s', (key, expected) => {
    expect(looksLikeSecretKey(key)).toBe(expected);
  });
});
