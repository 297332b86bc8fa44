import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { SpecError, type SpecProblem, formatPath } from './errors.ts';
import { nestingProblem } from './nesting.ts';
import { checkHyperparameterValue, RUNNERS_WITH_KNOWN_HYPERPARAMETERS, TRAINER_HYPERPARAMETERS } from './hyperparameters.ts';
import { LIMITS, type SearchSpec, specSchema } from './schema.ts';

/**
 * Validates a spec (already decoded from JSON or YAML) and returns it with defaults filled in.
 * Throws a SpecError listing every problem by path.
 */
export function parseSpec(input: unknown): SearchSpec {
  const parsed = specSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new SpecError(parsed.error.issues.map(toProblem));
  const problems = checkSemantics(parsed.data);
  if (problems.length > 0) throw new SpecError(problems);
  return parsed.data;
}

/** Decodes YAML (a superset of JSON) with alias expansion bounded, then parses the spec. */
export function parseSpecText(text: string): SearchSpec {
  // Refused before parsing: deep nesting makes the YAML parser recurse for seconds.
  const tooDeep = nestingProblem(text);
  if (tooDeep) throw new SpecError([{ path: '', message: tooDeep }]);
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new SpecError([{ path: '', message: `is not valid YAML or JSON: ${message}` }]);
  }
  return parseSpec(doc);
}

function toProblem(issue: z.core.$ZodIssue): SpecProblem {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return { path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}` };
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return { path, message: 'is required' };
  if (issue.code === 'invalid_type')
    return { path, message: `must be ${article(issue.expected === 'int' ? 'integer' : issue.expected)} (got ${describe(issue.input)})` };
  return { path, message: issue.message };
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value;
}

/** Checks what the schema cannot: bounds order, log-scale positivity, conditions, names the runner knows. */
function checkSemantics(spec: SearchSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const names = Object.keys(spec.space);
  if (names.length === 0) add('space', 'must define at least one parameter');
  if (names.length > LIMITS.maxParameters) add('space', `must define at most ${LIMITS.maxParameters} parameters (got ${names.length})`);

  for (const [name, p] of Object.entries(spec.space)) {
    const at = `space.${name}`;
    if (p.type !== 'categorical') {
      if (p.low > p.high) add(`${at}.low`, `must be <= high (${p.low} > ${p.high})`);
      if (p.log && p.low <= 0) add(`${at}.low`, 'must be > 0 on a log scale');
      if (p.type === 'int' && p.step > 1 && p.log) add(`${at}.step`, 'cannot be combined with log: true');
    } else if (new Set(p.choices.map((c) => JSON.stringify(c))).size !== p.choices.length) {
      add(`${at}.choices`, 'must not repeat a choice');
    }
    if (name in spec.fixed) add(`fixed.${name}`, `is also searched in space.${name}; keep one`);
    for (const [dep, values] of Object.entries(p.when ?? {})) {
      const target = spec.space[dep];
      if (dep === name) add(`${at}.when.${dep}`, 'a parameter cannot depend on itself');
      else if (!target) add(`${at}.when.${dep}`, `names no parameter of the space`);
      else if (target.type !== 'categorical') add(`${at}.when.${dep}`, 'must name a categorical parameter');
      else {
        for (const v of values) {
          if (!target.choices.includes(v)) add(`${at}.when.${dep}`, `${JSON.stringify(v)} is not a choice of ${dep}`);
        }
      }
    }
  }
  const cycle = findConditionCycle(spec);
  if (cycle) add(`space.${cycle[0]}.when`, `conditions form a cycle: ${cycle.join(' -> ')}`);

  if (RUNNERS_WITH_KNOWN_HYPERPARAMETERS.has(spec.trainer.runner)) {
    const known = Object.keys(TRAINER_HYPERPARAMETERS).join(', ');
    for (const [name, p] of Object.entries(spec.space)) {
      const at = `space.${name}`;
      if (!(name in TRAINER_HYPERPARAMETERS)) {
        add(at, `is not a hyperparameter of the ${spec.trainer.runner} runner (known: ${known})`);
        continue;
      }
      const values = p.type === 'categorical' ? p.choices : [p.low, p.high];
      const fields = p.type === 'categorical' ? p.choices.map((_, i) => `choices.${i}`) : ['low', 'high'];
      values.forEach((v, i) => {
        const why = checkHyperparameterValue(name, v);
        if (why) add(`${at}.${fields[i]}`, why);
      });
    }
    for (const [name, v] of Object.entries(spec.fixed)) {
      if (!(name in TRAINER_HYPERPARAMETERS))
        add(`fixed.${name}`, `is not a hyperparameter of the ${spec.trainer.runner} runner (known: ${known})`);
      else {
        const why = checkHyperparameterValue(name, v);
        if (why) add(`fixed.${name}`, why);
      }
    }
  }
  return problems;
}

function findConditionCycle(spec: SearchSpec): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const dep of Object.keys(spec.space[name]?.when ?? {})) {
      if (dep !== name && spec.space[dep]) {
        const found = visit(dep, [...trail, name]);
        if (found) return found;
      }
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(spec.space)) {
    const found = visit(name, []);
    if (found) return found;
  }
  return undefined;
}
