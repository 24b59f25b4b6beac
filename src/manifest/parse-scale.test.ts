/**
 * Validation is linear in the manifest's size: four times the keys may cost about four times
 * as long, never sixteen (a quadratic step). A ratio measured in one run, not a wall-clock bound.
 */
import { describe, expect, it } from 'vitest';
import { parseManifest } from './parse.js';

const HEAD =
  'app: big\nruntime: nodejs20.x\nenvironments:\n  - name: dev\nfunctions:\n  api:\n    handler: src/api.handler\n';

function manifest(keys: number, kind: 'config' | 'unknown'): string {
  const lines = Array.from({ length: keys }, (_, i) => (kind === 'config' ? `  K${i}: v${i}` : `x${i}: v`));
  return `${HEAD}${kind === 'config' ? 'config:\n' : ''}${lines.join('\n')}\n`;
}

/** The fastest of three parses, in ms (the minimum is the least disturbed by other processes). */
function fastest(text: string): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    try {
      parseManifest(text, { file: 'stagecraft.yml' });
    } catch {
      // an invalid manifest is the point of the `unknown` case
    }
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

describe('manifest validation scale', () => {
  for (const kind of ['config', 'unknown'] as const) {
    it(`grows linearly with the number of keys (${kind} keys)`, () => {
      fastest(manifest(2_000, kind)); // warm the JIT
      const small = fastest(manifest(3_000, kind));
      const large = fastest(manifest(12_000, kind));
      console.log(
        `manifest ${kind}: 3,000 keys ${small.toFixed(0)} ms, 12,000 keys ${large.toFixed(0)} ms, ratio ${(large / small).toFixed(1)} (linear: 4, quadratic: 16)`,
      );
      expect(large / small).toBeLessThan(6);
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
