import { isActive, orderedNames } from '../space/space.ts';
import type { SpecProblem } from './errors.ts';
import type { SearchSpec } from './schema.ts';

/**
 * What is wrong with a spec's `baseline`, by path `baseline.<name>`. The baseline is a trial like
 * any other, so it must be a point of the space: a value for each searched parameter whose
 * condition holds (and none for those whose condition does not), categorical values among the
 * choices, numbers inside [low, high] on the int step. A baseline outside the searched range is
 * refused rather than run, because strategies model every trial's parameters on the space's scale
 * (TPE, the GP) and cannot place a point outside it; widening the range is the user's call.
 * Parameters of `fixed` apply to every trial, the baseline included, so the baseline does not
 * name them. `searched` holds every name of the space, parsed or not: a baseline naming a space
 * entry that did not parse is not reported twice.
 */
export function baselineProblems(spec: SearchSpec, searched: ReadonlySet<string>): SpecProblem[] {
  const baseline = spec.baseline ?? {};
  const problems: SpecProblem[] = [];
  const add = (name: string, message: string) => problems.push({ path: `baseline.${name}`, message });
  for (const name of Object.keys(baseline)) {
    if (Object.hasOwn(spec.fixed, name))
      add(name, `is fixed for every trial (fixed.${name}); the baseline gives values only for the parameters of space`);
    else if (!searched.has(name)) add(name, 'names no parameter of the space');
  }
  for (const name of orderedNames(spec.space)) {
    const p = spec.space[name];
    if (!p) continue;
    const v = Object.hasOwn(baseline, name) ? baseline[name] : undefined;
    if (!isActive(p, baseline)) {
      if (v !== undefined) add(name, `must be absent: its condition (${conditionText(p.when ?? {})}) does not hold for the baseline`);
      continue;
    }
    if (v === undefined) {
      add(name, 'is missing: the baseline gives the value you run today for every searched parameter that applies');
    } else if (p.type === 'categorical') {
      if (!p.choices.includes(v))
        add(name, `${JSON.stringify(v)} is not a choice of space.${name} (${p.choices.map((c) => JSON.stringify(c)).join(', ')})`);
    } else if (typeof v !== 'number' || !Number.isFinite(v)) {
      add(name, `must be a finite number (got ${JSON.stringify(v)})`);
    } else if (v < p.low || v > p.high) {
      add(
        name,
        `${v} is outside the searched range [${p.low}, ${p.high}]; widen space.${name} to include it, so the search can model the baseline`,
      );
    } else if (p.type === 'int' && (!Number.isInteger(v) || (v - p.low) % p.step !== 0)) {
      add(name, `${v} is not an integer on space.${name}'s step ${p.step} from ${p.low}`);
    }
  }
  return problems;
}

function conditionText(when: Readonly<Record<string, readonly unknown[]>>): string {
  return Object.entries(when)
    .map(([dep, values]) => `${dep} in ${values.map((v) => JSON.stringify(v)).join('|')}`)
    .join(', ');
}
