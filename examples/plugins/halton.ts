/**
 * An example third-party search strategy: quasi-random Halton points. Start the daemon from
 * examples/ with `sweepd up --plugin-dir plugins` (plugins load only from such a directory), and
 * name it in a spec with
 *
 *   plugins: [./plugins/halton.ts]
 *   strategy: { name: halton, options: { seed: 1 } }
 *
 * Trial k takes the k-th point of the Halton sequence (one prime base per parameter), shifted by
 * a seeded random offset (a Cranley–Patterson rotation) so different seeds give different but
 * equally even designs. It covers the space more evenly than independent random draws, and
 * needs no model: a pure function of the seed and the history's length.
 */
import { type ParamSpec, type ParamValue, type Params, type Plugin, Rng, fromUnit, isActive, orderedNames } from '@sweepd/core';
import { z } from 'zod';

const options = z.strictObject({
  seed: z.number().int('must be an integer').min(0, 'must be >= 0').default(0),
});
type HaltonOptions = z.output<typeof options>;

const PRIMES = [
  2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131,
];

/** The radical inverse of `index` in `base`: the Halton coordinate. */
export function radicalInverse(index: number, base: number): number {
  let result = 0;
  let f = 1 / base;
  let i = index;
  while (i > 0) {
    result += f * (i % base);
    i = Math.floor(i / base);
    f /= base;
  }
  return result;
}

const halton: Plugin<'strategy', HaltonOptions> = {
  kind: 'strategy',
  name: 'halton',
  description: 'quasi-random Halton points with a seeded rotation (example plugin)',
  parseOptions: (raw) => options.parse(raw ?? {}),
  create(opts, ctx) {
    const names = orderedNames(ctx.space);
    if (names.length > PRIMES.length) throw new Error(`halton: at most ${PRIMES.length} parameters (got ${names.length})`);
    const rng = new Rng(`halton:${opts.seed}`);
    const shift = names.map(() => rng.next());
    return {
      async ask(history, n) {
        const out: Params[] = [];
        for (let i = 0; i < n; i++) {
          // Index 0 of every base is the origin; start at 1.
          const index = history.length + i + 1;
          const params: Record<string, ParamValue> = {};
          names.forEach((name, j) => {
            const p = ctx.space[name] as ParamSpec;
            if (!isActive(p, params)) return;
            const u = (radicalInverse(index, PRIMES[j] as number) + (shift[j] as number)) % 1;
            params[name] = fromUnit(p, u);
          });
          out.push(params);
        }
        return out;
      },
    };
  },
};

export default halton;
