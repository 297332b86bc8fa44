import { type ParamSpec, type ParamValue, type Params, Rng, type Space, isActive, orderedNames, sampleSpace } from '@sweepd/core';
import { axisValue, numericAxis } from './axis.ts';
import { spaceKey } from './common.ts';

/**
 * A Latin hypercube of `size` points over the space (each parameter's range cut into `size`
 * strata, each stratum used once), fixed by the seed alone. Start-up trials taken from it cover
 * the space more evenly than independent draws, which matters when there are only a handful.
 */
export function latinHypercube(space: Space, seed: number, size: number): Params[] {
  const rng = new Rng(`${seed}:design:${size}`);
  const names = orderedNames(space);
  const columns = names.map(() => {
    const perm = Array.from({ length: size }, (_, i) => i);
    for (let i = size - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
    }
    return perm.map((stratum) => (stratum + rng.next()) / size);
  });
  const out: Params[] = [];
  for (let i = 0; i < size; i++) {
    const params: Record<string, ParamValue> = {};
    names.forEach((name, j) => {
      const p = space[name] as ParamSpec;
      if (!isActive(p, params)) return;
      const u = columns[j]?.[i] as number;
      params[name] =
        p.type === 'categorical'
          ? (p.choices[Math.min(p.choices.length - 1, Math.floor(u * p.choices.length))] as ParamValue)
          : axisValue(numericAxis(p), u);
    });
    out.push(params);
  }
  return out;
}

/**
 * Start-up suggestions for trial slots `first` … `first + n − 1`: slots inside the design take its
 * points, later ones (or ones already in the history) random draws from `rng`.
 */
export function spaceFillingDesign(
  space: Space,
  seed: number,
  size: number,
  first: number,
  n: number,
  rng: Rng,
  taken: Set<string>,
): Params[] {
  const names = orderedNames(space);
  const design = first < size ? latinHypercube(space, seed, size) : [];
  const out: Params[] = [];
  for (let i = 0; i < n; i++) {
    let params = design[first + i];
    if (!params || taken.has(spaceKey(names, params))) {
      params = sampleSpace(space, rng);
      for (let attempt = 0; attempt < 32 && taken.has(spaceKey(names, params)); attempt++) params = sampleSpace(space, rng);
    }
    taken.add(spaceKey(names, params));
    out.push(params);
  }
  return out;
}
