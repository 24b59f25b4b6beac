import { describe, expect, it } from 'vitest';
import { releaseDigest, type ReleaseSource } from './release.js';

const source: ReleaseSource = {
  manifestDigest: 'a'.repeat(64),
  artifacts: { api: '1'.repeat(64), worker: '2'.repeat(64) },
  commit: 'c'.repeat(40),
  dirty: false,
};

describe('releaseDigest', () => {
  it('is a sha256 that does not depend on the order of keys', () => {
    const digest = releaseDigest(source);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const reordered = releaseDigest({
      dirty: false,
      commit: source.commit,
      artifacts: { worker: '2'.repeat(64), api: '1'.repeat(64) },
      manifestDigest: source.manifestDigest,
    });
    expect(reordered).toBe(digest);
  });

  it('changes with every part of the release', () => {
    const digests = new Set([
      releaseDigest(source),
      releaseDigest({ ...source, manifestDigest: 'b'.repeat(64) }),
      releaseDigest({ ...source, artifacts: { ...source.artifacts, api: '3'.repeat(64) } }),
      releaseDigest({ ...source, artifacts: { api: '1'.repeat(64) } }),
      releaseDigest({ ...source, commit: null }),
      releaseDigest({ ...source, dirty: true }),
    ]);
    expect(digests.size).toBe(6);
  });
});
