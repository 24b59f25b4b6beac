/**
 * Validation is linear in the manifest's size: eight times the keys may cost about eight times
 * as much, never sixty-four (a quadratic step). A ratio of this process's CPU time measured in one
 * run, not a wall-clock bound: other processes on a loaded machine stretch wall time, not this.
 */
import { describe, expect, it } from 'vitest';
import { parseManifest } from './parse.js';

const HEAD =
  'app: big\nruntime: nodejs20.x\nenvironments:\n  - name: dev\nfunctions:\n  api:\n    handler: src/api.handler\n';

function manifest(keys: number, kind: 'config' | 'unknown'): string {
  const lines = Array.from({ length: keys }, (_, i) => (kind === 'config' ? `  K${i}: v${i}` : `x${i}: v`));
  return `${HEAD}${kind === 'config' ? 'config:\n' : ''}${lines.join('\n')}\n`;
}

/** The cheapest of five parses in CPU ms (the minimum is the least disturbed by GC and caches). */
function fastest(text: string): number {
  let best = Infinity;
  for (let run = 0; run < 5; run++) {
    const started = process.cpuUsage();
    try {
      parseManifest(text, { file: 'stagecraft.yml' });
    } catch {
      // an invalid manifest is the point of the `unknown` case
    }
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

describe('manifest validation scale', () => {
  for (const kind of ['config', 'unknown'] as const) {
    it(`grows linearly with the number of keys (${kind} keys)`, () => {
      fastest(manifest(1_000, kind)); // warm the JIT
      const small = fastest(manifest(2_000, kind));
      const large = fastest(manifest(16_000, kind));
      console.log(
        `manifest ${kind}: 2,000 keys ${small.toFixed(0)} CPU ms, 16,000 keys ${large.toFixed(0)} CPU ms, ratio ${(large / small).toFixed(1)} (linear: 8, quadratic: 64)`,
      );
      // Measured here: 7.6–10.4 as built, 27–40 with the parser's own quadratic duplicate-key scan
      // (`uniqueKeys: true`); 16 sits between them with room for noise on either side.
      expect(large / small).toBeLessThan(16);
    }, 120_000);
  }

  it('refuses to count on the parser for duplicates, and still finds them', () => {
    expect(() => parseManifest(`${HEAD}config:\n  A: 1\n  A: 2\n`, { file: 'stagecraft.yml' })).toThrow(
      expect.objectContaining({
        details: ['stagecraft.yml:10:3 invalid YAML: Map keys must be unique'],
      }),
    );
  });
});
