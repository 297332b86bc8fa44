import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { baselineProblems } from './baseline.ts';
import { formatPath, SpecError, type SpecProblem } from './errors.ts';
import { issueProblems } from './issues.ts';
import { nestingProblem } from './nesting.ts';
import { sizeProblem } from './size.ts';
import { LIMITS, paramSchema, type ParamSpec, type SearchSpec, specSchema } from './schema.ts';
import { keysAt, nearestName } from './did-you-mean.ts';

/** What checking a spec found: every problem at once, and the parts that did parse. */
export interface SpecCheck {
  /** The spec with defaults filled in; undefined when there are problems. */
  spec: SearchSpec | undefined;
  problems: SpecProblem[];
  /**
   * Every section that parsed, defaults in place of those that did not (and only the space entries
   * that parsed), so later checks that read a few sections (a runner's) can still report their
   * problems in the same answer.
   */
  draft: SearchSpec;
  /**
   * Names in the space or fixed whose own entries did not parse: the draft leaves them out, and
   * they have their own problems, so a runner's check must not also call them missing.
   */
  unparsedParams: string[];
  /**
   * The draft's trainer is the default standing in for a section that did not parse. A trainer
   * whose only fault is an unknown key (a typo such as `datset`) is the section as meant instead
   * (see trainerDraft), so the runner can still check the space and options in the same answer.
   */
  trainerStandIn: boolean;
}

/**
 * Validates a spec (already decoded from JSON or YAML) and returns it with defaults filled in.
 * Throws a SpecError listing every problem by path.
 */
export function parseSpec(input: unknown): SearchSpec {
  const { spec, problems } = checkSpec(input);
  if (!spec) throw new SpecError(problems);
  return spec;
}

/** Decodes YAML (a superset of JSON) with alias expansion bounded, then parses the spec. */
export function parseSpecText(text: string): SearchSpec {
  return parseSpec(decodeSpecText(text));
}

/** YAML or JSON text → the plain value; throws a SpecError when it is not readable. */
export function decodeSpecText(text: string): unknown {
  // Refused before parsing: deep nesting makes the YAML parser recurse for seconds, and a mapping
  // of many thousand entries holds it for seconds to minutes.
  const tooDeep = nestingProblem(text) ?? sizeProblem(text);
  if (tooDeep) throw new SpecError([{ path: '', message: tooDeep }]);
  try {
    return parseYaml(text, { maxAliasCount: 100, uniqueKeys: true, prettyErrors: true, logLevel: 'error' });
  } catch (err) {
    throw new SpecError([{ path: '', message: `is not valid YAML or JSON${syntaxProblem(err, text)}` }]);
  }
}

/** Where the text stops being YAML and why, in a spec author's words (the library's own first line, else). */
function syntaxProblem(err: unknown, text: string): string {
  if (!(err instanceof YAMLParseError)) return `: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  const at = err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
  // The library appends the position and a code frame to its message: both are said here already.
  const message = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (err.code === 'MULTIPLE_DOCS') return `${at}: a second document starts there (after a '---' or '...' line); a spec is one document`;
  if (err.code === 'DUPLICATE_KEY') {
    // The key as written: inside its quotes when quoted (a colon may be part of it), else up to its colon.
    const rest = text.slice(err.pos[0]);
    const quoted = /^(["'])((?:\\.|(?!\1)[^\n])*)\1/.exec(rest);
    const key = quoted ? quoted[2] : /^[^:\n]*/.exec(rest)?.[0].trim();
    return `${at}: the key ${key ? `'${key.slice(0, 64)}' ` : ''}appears twice in the same mapping`;
  }
  return `${at}: ${message}`;
}

/** Every problem of a spec in one pass: the schema's, and the cross-field checks on whatever parsed. */
export function checkSpec(input: unknown): SpecCheck {
  const parsed = specSchema.safeParse(input, { reportInput: true });
  const problems = parsed.success ? [] : issueProblems(parsed.error.issues, [], undefined, (path) => keysAt(specSchema, path));
  problems.push(...reservedKeyProblems(input, problems));
  // Read once: the draft takes it, and without it the draft's trainer is a stand-in.
  const trainer = parsed.success ? undefined : trainerDraft(isRecord(input) ? input.trainer : undefined);
  const draft = parsed.success ? parsed.data : draftOf(input, trainer);
  const trainerStandIn = !parsed.success && !trainer;
  const unparsedParams = parsed.success ? [] : namesLeftOut(input, draft);
  // A spec that is not a mapping at all has that one problem: the checks of its sections would only echo it.
  if (!isRecord(input)) return { spec: undefined, problems, draft, trainerStandIn, unparsedParams };
  const raw = isRecord(input.space) ? input.space : {};
  const direction = lossWithoutDirection(input.objective);
  if (direction) problems.push(direction);
  for (const p of checkSemantics(draft, raw)) {
    // One problem per path from the schema is enough: 'space: is required' needs no 'space: must define …'.
    if (!problems.some((q) => q.path === p.path && (q.message === p.message || p.path === 'space'))) problems.push(p);
  }
  return { spec: problems.length === 0 && parsed.success ? parsed.data : undefined, problems, draft, trainerStandIn, unparsedParams };
}

/** The space's and fixed's names that the draft left out (their entries did not parse). */
function namesLeftOut(input: unknown, draft: SearchSpec): string[] {
  if (!isRecord(input)) return [];
  const given = [input.space, input.fixed].flatMap((section) => (isRecord(section) ? Object.keys(section) : []));
  return [...new Set(given)].filter((name) => !Object.hasOwn(draft.space, name) && !Object.hasOwn(draft.fixed, name));
}

/** Names that read as something to minimise: losses and error rates. */
const LOSS_LIKE = /loss|mse|mae|rmse|nll|perplexity|ppl|error/i;

/**
 * An objective named like a loss with no direction: the default, maximize, would search for the
 * worst config and report it as the best. Asked for at submit time, not guessed.
 */
function lossWithoutDirection(objective: unknown): SpecProblem | undefined {
  if (!isRecord(objective) || objective.direction !== undefined || typeof objective.metric !== 'string') return undefined;
  if (!LOSS_LIKE.test(objective.metric)) return undefined;
  return {
    path: 'objective.direction',
    message: `is required for '${objective.metric}', which reads as a loss: say minimize (or maximize, if it is a score to raise); the default is maximize`,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The sections of `input` that parse on their own, over a minimal valid spec. */
function draftOf(input: unknown, trainer: SearchSpec['trainer'] | undefined): SearchSpec {
  const raw = isRecord(input) ? input : {};
  const shape = specSchema.shape;
  const section = <S extends z.ZodType>(schema: S, value: unknown, fallback: unknown): z.output<S> => {
    const r = schema.safeParse(value);
    return r.success ? r.data : (schema.parse(fallback) as z.output<S>);
  };
  const space: Record<string, ParamSpec> = {};
  if (isRecord(raw.space)) {
    for (const [name, entry] of Object.entries(raw.space)) {
      // Assigned, it would set the draft's prototype: refused by reservedKeyProblems.
      if (name === RESERVED_KEY) continue;
      const r = paramSchema.safeParse(entry);
      if (r.success) space[name] = r.data;
    }
  }
  // Entry by entry, as the space: one bad fixed value must not hide the others from the runner's check.
  const fixed: Record<string, unknown> = {};
  if (isRecord(raw.fixed)) {
    for (const [key, value] of Object.entries(raw.fixed)) {
      const r = shape.fixed.safeParse({ [key]: value });
      if (r.success) Object.assign(fixed, r.data);
    }
  }
  return {
    name: section(shape.name, raw.name, 'draft'),
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    objective: section(shape.objective, raw.objective, {}),
    space,
    fixed: fixed as SearchSpec['fixed'],
    ...baselineDraft(raw.baseline),
    strategy: section(shape.strategy, raw.strategy, undefined),
    stopping: section(shape.stopping, raw.stopping, []),
    budget: section(shape.budget, raw.budget, { max_trials: 1, max_epochs: 1 }),
    trainer: trainer ?? section(shape.trainer, undefined, undefined),
    plugins: section(shape.plugins, raw.plugins, []),
  };
}

/**
 * The trainer section as parsed or, when only unknown keys spoil it, as meant: a key one typo from
 * a known one it lacks (`datset`, `option`) stands for that one, as the problem's "did you mean"
 * says, and other unknown keys are left out. So the runner checks what the author meant and says
 * nothing false of it ("options.command is required" of a spec that gave it under `option`).
 * Undefined when even that does not parse.
 */
function trainerDraft(value: unknown): SearchSpec['trainer'] | undefined {
  const schema = specSchema.shape.trainer;
  const whole = schema.safeParse(value);
  if (whole.success) return whole.data;
  if (!isRecord(value)) return undefined;
  const known = keysAt(specSchema, ['trainer']);
  const alone = Object.fromEntries(Object.entries(value).filter(([key]) => known.includes(key)));
  // A typo's value is taken for its key only where it is a value that key takes, and only one typo's.
  const meant: Record<string, unknown> = { ...alone };
  const fields = schema.unwrap().shape as Record<string, z.ZodType>;
  for (const [key, v] of Object.entries(value)) {
    const near = known.includes(key) ? undefined : nearestName(key, known);
    if (near && !Object.hasOwn(meant, near) && fields[near]?.safeParse(v).success) meant[near] = v;
  }
  const r = schema.safeParse(meant);
  if (r.success) return r.data;
  // The known keys alone, as written: still what the runner can check.
  const rest = schema.safeParse(alone);
  return rest.success ? rest.data : undefined;
}

/** The baseline when it parses (its own problems are the schema's), so its values are still checked against the space. */
function baselineDraft(value: unknown): Pick<SearchSpec, 'baseline'> {
  const r = specSchema.shape.baseline.safeParse(value);
  return r.success && r.data ? { baseline: r.data } : {};
}

/** A key no object can hold as its own entry: assigning it sets the object's prototype instead. */
const RESERVED_KEY = '__proto__';

/**
 * Every `__proto__` key anywhere in the input, by path. JSON.parse and the YAML parser keep it as
 * an entry, but a mapping the schema builds (a space, fixed, a condition, options) would lose it
 * without a word: a parameter or a condition would vanish from the stored spec. Refused instead,
 * except where a closed section already calls it an unknown key.
 */
function reservedKeyProblems(input: unknown, found: readonly SpecProblem[]): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const seen = new Set<object>();
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value: input, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: PropertyKey[] };
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
      continue;
    }
    const keys = Object.keys(value);
    if (keys.includes(RESERVED_KEY)) {
      const at = formatPath(path);
      const told = found.some((p) => p.path === at && /^unknown keys? /.test(p.message) && p.message.includes(`'${RESERVED_KEY}'`));
      if (!told)
        problems.push({
          path: formatPath([...path, RESERVED_KEY]),
          message: `is not allowed as a key: JavaScript takes '${RESERVED_KEY}' for an object's prototype, so this entry would be lost; rename it`,
        });
    }
    for (const key of keys.reverse()) stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
  }
  return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Checks what the schema cannot: bounds order, log-scale positivity, conditions. Runs on the
 * draft, and on the raw entries that did not parse, so a log-scale low of 0 is reported together
 * with a missing `high` rather than in a second round.
 */
function checkSemantics(spec: SearchSpec, rawSpace: Record<string, unknown>): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const names = Object.keys(rawSpace).length > 0 ? Object.keys(rawSpace) : Object.keys(spec.space);
  if (names.length === 0) add('space', 'must define at least one parameter');
  if (names.length > LIMITS.maxParameters) add('space', `must define at most ${LIMITS.maxParameters} parameters (got ${names.length})`);

  for (const name of names) {
    const at = `space.${name}`;
    // Own keys only: a raw name such as constructor that did not parse is no entry of the draft.
    const p = Object.hasOwn(spec.space, name) ? spec.space[name] : undefined;
    if (!p) {
      checkBounds(rawSpace[name], at, add);
      continue;
    }
    if (p.type !== 'categorical') {
      checkBounds(p, at, add);
      if (p.type === 'int' && p.step > 1 && p.log) add(`${at}.step`, 'cannot be combined with log: true');
      else if (p.type === 'int' && p.step > 1 && p.high > p.low && (p.high - p.low) % p.step !== 0) {
        const last = p.high - ((p.high - p.low) % p.step);
        add(
          `${at}.high`,
          `${p.high} is not reached in steps of ${p.step} from ${p.low} (the last value would be ${last}): set high to ${last} or ${last + p.step}`,
        );
      }
    } else {
      if (new Set(p.choices.map((c) => JSON.stringify(c))).size !== p.choices.length) add(`${at}.choices`, 'must not repeat a choice');
      const clashes = textClashes(p.choices);
      if (clashes)
        add(
          `${at}.choices`,
          `must differ as text (trials are exported, shown and passed to commands as text): ${clashes}; keep one of each, or spell them apart`,
        );
    }
    // Own keys only: a parameter named constructor or toString is no key of an empty fixed.
    if (Object.hasOwn(spec.fixed, name)) add(`fixed.${name}`, `is also searched in space.${name}; keep one`);
    for (const [dep, values] of Object.entries(p.when ?? {})) {
      const target = Object.hasOwn(spec.space, dep) ? spec.space[dep] : undefined;
      if (dep === name) add(`${at}.when.${dep}`, 'a parameter cannot depend on itself');
      else if (!target && !Object.hasOwn(rawSpace, dep)) add(`${at}.when.${dep}`, `names no parameter of the space`);
      else if (!target)
        continue; // that parameter has its own problems
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
  // Conditions that form a cycle cannot say which baseline values apply.
  else if (spec.baseline) problems.push(...baselineProblems(spec, new Set(names)));
  return problems;
}

/**
 * Choices that are different values with the same text (1 and "1", true and "true"), as
 * `1 and "1" both read 1`, joined; undefined when there are none. Exact repeats are not counted.
 */
function textClashes(choices: readonly (string | number | boolean)[]): string | undefined {
  const byText = new Map<string, string[]>();
  for (const c of choices) {
    const shown = JSON.stringify(c);
    const same = byText.get(String(c)) ?? [];
    if (!same.includes(shown)) same.push(shown);
    byText.set(String(c), same);
  }
  const clashes = [...byText].filter(([, same]) => same.length > 1);
  if (clashes.length === 0) return undefined;
  return clashes.map(([text, same]) => `${listOf(same, 'and')} ${same.length === 2 ? 'both' : 'all'} read ${text}`).join('; ');
}

/** 'a', 'a and b', 'a, b and c' (with `word` for and). */
function listOf(items: readonly string[], word: string): string {
  return items.length <= 2 ? items.join(` ${word} `) : `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1)}`;
}

/**
 * low ≤ high, a positive low on a log scale, and a range whose width is a number that can be
 * drawn from (floats) or counted exactly (ints), read defensively: `entry` may not have parsed.
 */
function checkBounds(entry: unknown, at: string, add: (path: string, message: string) => void): void {
  if (!isRecord(entry)) return;
  const { low, high, log } = entry;
  if (typeof low === 'number' && typeof high === 'number' && low > high) add(`${at}.low`, `must be <= high (${low} > ${high})`);
  if (log === true && typeof low === 'number' && low <= 0) add(`${at}.low`, 'must be > 0 on a log scale');
  if (typeof low !== 'number' || typeof high !== 'number' || low > high) return;
  // Every draw would come out as high (low + u·Infinity), or ints off their step.
  if (entry.type === 'int') {
    if (Number.isSafeInteger(low) && Number.isSafeInteger(high) && !Number.isSafeInteger(high - low))
      add(at, `the range ${low} … ${high} is too wide (high − low must be at most ${Number.MAX_SAFE_INTEGER})`);
  } else if (Number.isFinite(low) && Number.isFinite(high) && !Number.isFinite(high - low)) {
    add(at, `the range ${low} … ${high} is too wide (high − low is not a finite number)`);
  }
}

function findConditionCycle(spec: SearchSpec): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const dep of Object.keys(spec.space[name]?.when ?? {})) {
      if (dep !== name && Object.hasOwn(spec.space, dep)) {
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
