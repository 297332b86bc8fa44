import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from './errors.ts';
import { checkSpec, decodeSpecText, parseSpec, parseSpecText } from './parse.ts';

const examples = path.resolve(import.meta.dirname, '../../../../examples');

const valid = () => ({
  name: 'finetune',
  objective: { metric: 'val_auc_macro', direction: 'maximize' },
  space: {
    learning_rate: { type: 'float', low: 1e-8, high: 1e-1, log: true },
    optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
    frozen_layers: { type: 'int', low: 0, high: 8 },
    momentum: { type: 'float', low: 0, high: 0.99, when: { optimizer: ['momentum', 'rmsprop'] } },
  },
  fixed: { batch_size: 32, weight_decay: 4e-5 },
  budget: { max_trials: 40, max_epochs: 10, parallelism: 4 },
});

/** The problems a bad spec is rejected with, as `path: message` lines. */
function problems(input: unknown): string[] {
  try {
    parseSpec(input);
  } catch (err) {
    if (err instanceof SpecError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  throw new Error('expected a SpecError');
}

// biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary depths of a spec on purpose
type Loose = any;

function withChange(change: (spec: Loose) => void): Record<string, unknown> {
  const spec: Loose = valid();
  change(spec);
  return spec;
}

describe('parseSpec', () => {
  it('accepts the examples and fills in defaults', () => {
    for (const file of ['quickstart.yaml', 'inception-finetune.yaml']) {
      expect(() => parseSpecText(readFileSync(path.join(examples, file), 'utf8')), file).not.toThrow();
    }
    const spec = parseSpec({
      name: 'x',
      objective: {},
      space: { learning_rate: { type: 'float', low: 0.001, high: 0.1 } },
      budget: { max_trials: 1, max_epochs: 1 },
    });
    expect(spec.objective).toEqual({ metric: 'val_auc_macro', direction: 'maximize' });
    expect(spec.strategy).toEqual({ name: 'random', options: {} });
    expect(spec.stopping).toEqual([]);
    expect(spec.budget.parallelism).toBe(1);
    expect(spec.trainer).toMatchObject({ runner: 'tfjs', pool: 'default' });
    expect(spec.space.learning_rate).toMatchObject({ log: false });
  });

  it('parses YAML and JSON text alike', () => {
    const json = JSON.stringify(valid());
    expect(parseSpecText(json)).toEqual(parseSpec(valid()));
  });

  it("takes parameters named like an object's own members (constructor, toString) as any other name", () => {
    const named = {
      ...valid(),
      fixed: {},
      space: {
        ...valid().space,
        constructor: { type: 'int', low: 0, high: 3 },
        toString: { type: 'categorical', choices: ['a', 'b'], when: { optimizer: ['adam'] } },
      },
      baseline: { learning_rate: 0.01, optimizer: 'sgd', frozen_layers: 0, constructor: 1 },
    };
    expect(parseSpec(named).space.constructor).toEqual({ type: 'int', low: 0, high: 3, step: 1, log: false });
    expect(problems(withChange((s) => (s.space.momentum.when = { valueOf: ['x'] })))).toEqual([
      'space.momentum.when.valueOf: names no parameter of the space',
    ]);
    // A condition on constructor with a baseline: the baseline is not told it misses a 'constructor'.
    const gated = withChange((s) => {
      s.space.momentum.when = { constructor: ['x'] };
      s.baseline = { learning_rate: 0.01, optimizer: 'sgd', frozen_layers: 0 };
    });
    expect(problems(gated)).toEqual(['space.momentum.when.constructor: names no parameter of the space']);
  });

  it('refuses a __proto__ key anywhere, from YAML and JSON text alike, rather than dropping its entry', () => {
    const lost = "is not allowed as a key: JavaScript takes '__proto__' for an object's prototype, so this entry would be lost; rename it";
    const textProblems = (text: string): string[] => {
      try {
        parseSpecText(text);
      } catch (err) {
        if (err instanceof SpecError) return err.problems.map((p) => `${p.path}: ${p.message}`);
        throw err;
      }
      throw new Error('expected a SpecError');
    };
    const yaml = [
      'name: s',
      'objective: {}',
      'space:',
      '  __proto__: { type: int, low: 0, high: 5 }',
      '  a: { type: categorical, choices: [x, y] }',
      '  b: { type: float, low: 0, high: 1, when: { __proto__: [x] } }',
      'fixed: { __proto__: 3 }',
      'budget: { max_trials: 1, max_epochs: 1, __proto__: 1 }',
      'strategy: { name: random, options: { __proto__: 1 } }',
      'stopping: [ { name: median, options: { __proto__: 1 } } ]',
      'trainer: { runner: simulate, options: { __proto__: 1, env: { __proto__: 2 } } }',
      '',
    ].join('\n');
    // A closed section already calls it an unknown key: said once.
    expect(textProblems(yaml)).toEqual([
      "budget: unknown key '__proto__'",
      `fixed.__proto__: ${lost}`,
      `space.__proto__: ${lost}`,
      `space.b.when.__proto__: ${lost}`,
      `stopping.0.options.__proto__: ${lost}`,
      `strategy.options.__proto__: ${lost}`,
      `trainer.options.__proto__: ${lost}`,
      `trainer.options.env.__proto__: ${lost}`,
    ]);
    // JSON.parse keeps it as an entry too; unrefused, the condition would become {} and b unconditional.
    const json =
      '{"name":"s","objective":{},"space":{"a":{"type":"categorical","choices":["x","y"]},' +
      '"b":{"type":"float","low":0,"high":1,"when":{"__proto__":["x"]}}},' +
      '"fixed":{"__proto__":3},"baseline":{"__proto__":1,"a":"x","b":0.5},"budget":{"max_trials":1,"max_epochs":1}}';
    expect(textProblems(json)).toEqual([`baseline.__proto__: ${lost}`, `fixed.__proto__: ${lost}`, `space.b.when.__proto__: ${lost}`]);
    expect(
      textProblems(
        '{"name":"s","objective":{},"space":{"__proto__":{"type":"int","low":0,"high":5}},"budget":{"max_trials":1,"max_epochs":1}}',
      ),
    ).toEqual([`space.__proto__: ${lost}`]);
    // The draft a runner's check reads holds no such entry (nor a prototype set by one), and the runner is told it did not parse.
    const check = checkSpec(decodeSpecText(yaml));
    expect(Object.getPrototypeOf(check.draft.space)).toBe(Object.prototype);
    expect(Object.keys(check.draft.space)).toEqual(['a', 'b']);
    expect(check.unparsedParams).toContain('__proto__');
    // At the root, the unknown key it always was.
    expect(problems(JSON.parse(`{"__proto__":1,${JSON.stringify(valid()).slice(1)}`))).toEqual([": unknown key '__proto__'"]);
  });

  it('refuses a range too wide to draw from: a float whose width overflows, an int whose width is no safe integer', () => {
    expect(problems(withChange((s) => (s.space.x = { type: 'float', low: -1.7e308, high: 1.7e308 })))).toEqual([
      'space.x: the range -1.7e+308 … 1.7e+308 is too wide (high − low is not a finite number)',
    ]);
    expect(
      problems(withChange((s) => (s.space.i = { type: 'int', low: -Number.MAX_SAFE_INTEGER, high: Number.MAX_SAFE_INTEGER }))),
    ).toEqual(['space.i: the range -9007199254740991 … 9007199254740991 is too wide (high − low must be at most 9007199254740991)']);
    expect(() => parseSpec(withChange((s) => (s.space.x = { type: 'float', low: -8e307, high: 8e307 })))).not.toThrow();
    expect(() => parseSpec(withChange((s) => (s.space.i = { type: 'int', low: -(2 ** 52) + 1, high: 2 ** 52 })))).not.toThrow();
    expect(() => parseSpec(withChange((s) => (s.space.x = { type: 'float', low: 1e-300, high: 1.7e308, log: true })))).not.toThrow();
  });

  it('says an integer too large is too large, with the real range where the field has one', () => {
    expect(problems(withChange((s) => (s.budget.max_trials = 1e300)))).toEqual(['budget.max_trials: must be at most 100000 (got 1e+300)']);
    expect(problems(withChange((s) => (s.budget.parallelism = -1e20)))).toEqual([
      'budget.parallelism: must be at least 1 (got -100000000000000000000)',
    ]);
    expect(problems(withChange((s) => (s.space.frozen_layers = { type: 'int', low: -1e20, high: 1e20, step: 1e300 })))).toEqual([
      'space.frozen_layers.low: must be an integer of at least -9007199254740991 (got -100000000000000000000)',
      'space.frozen_layers.high: must be an integer of at most 9007199254740991 (got 100000000000000000000)',
      'space.frozen_layers.step: must be an integer of at most 9007199254740991 (got 1e+300)',
    ]);
  });

  it('names hold ASCII letters, digits and _ . : -, and start with a letter, a digit or _, as the message says', () => {
    const rule = 'may hold only ASCII letters, digits and _ . : - and must start with an ASCII letter, a digit or _';
    expect(problems({ ...valid(), name: '学习率-study' })).toEqual([`name: ${rule}`]);
    expect(problems({ ...valid(), name: '-study' })).toEqual([`name: ${rule}`]);
    expect(problems(withChange((s) => (s.fixed = { 学习率: 1 })))).toEqual([`fixed.学习率: is not a valid name: ${rule}`]);
    expect(parseSpec({ ...valid(), name: '_study-1.a:b' }).name).toBe('_study-1.a:b');
  });

  it('refuses categorical choices that differ only by type: their text would be the same', () => {
    expect(problems(withChange((s) => (s.space.c = { type: 'categorical', choices: [1, '1', true, 'true', 'x'] })))).toEqual([
      'space.c.choices: must differ as text (trials are exported, shown and passed to commands as text): 1 and "1" both read 1; true and "true" both read true; keep one of each, or spell them apart',
    ]);
    expect(problems(withChange((s) => (s.space.c = { type: 'categorical', choices: [1e21, '1e+21', 'false', false, 0] })))).toEqual([
      'space.c.choices: must differ as text (trials are exported, shown and passed to commands as text): 1e+21 and "1e+21" both read 1e+21; "false" and false both read false; keep one of each, or spell them apart',
    ]);
    expect(() => parseSpec(withChange((s) => (s.space.c = { type: 'categorical', choices: [1, '2', true, 'yes', 0.5] })))).not.toThrow();
  });

  it('rejects unknown keys at every level', () => {
    expect(problems({ ...valid(), bogus: 1 })).toEqual(["(root): unknown key 'bogus'".replace('(root)', '')]);
    expect(problems(withChange((s) => (s.space.learning_rate.step = 1)))).toEqual(["space.learning_rate: unknown key 'step'"]);
    expect(problems(withChange((s) => (s.budget.max_time = 1)))).toEqual(["budget: unknown key 'max_time'"]);
  });

  it('names missing and mistyped fields', () => {
    expect(problems({})).toEqual(
      expect.arrayContaining(['name: is required', 'objective: is required', 'space: is required', 'budget: is required']),
    );
    expect(problems(withChange((s) => (s.budget.max_trials = 'forty')))).toEqual(['budget.max_trials: must be a number (got "forty")']);
    expect(problems(withChange((s) => (s.space.frozen_layers.low = 1.5)))).toEqual([
      'space.frozen_layers.low: must be an integer (got 1.5)',
    ]);
    expect(problems(withChange((s) => (s.space.optimizer = { type: 'enum', choices: [] })))).toEqual([
      'space.optimizer.type: must have type float, int or categorical',
    ]);
    expect(problems(withChange((s) => (s.objective.direction = 'up')))).toEqual([
      'objective.direction: must be maximize or minimize (got "up")',
    ]);
    // A loss with no direction would be maximised: asked for, not guessed.
    expect(problems(withChange((s) => (s.objective = { metric: 'val_loss' })))).toEqual([
      "objective.direction: is required for 'val_loss', which reads as a loss: say minimize (or maximize, if it is a score to raise); the default is maximize",
    ]);
    expect(() => parseSpec(withChange((s) => (s.objective = { metric: 'val_loss', direction: 'minimize' })))).not.toThrow();
    expect(parseSpec(withChange((s) => (s.objective = { metric: 'val_acc' }))).objective.direction).toBe('maximize');
    // Not a mapping at all: that one problem, not echoes of it from every section.
    expect(problems([1, 2])).toEqual([': must be an object (got a list)']);
    expect(problems('hello')).toEqual([': must be an object (got "hello")']);
    // In a spec author's words, never zod's "Invalid input" or "Invalid key in record".
    expect(problems(withChange((s) => (s.space.learning_rate.high = Number.POSITIVE_INFINITY)))).toEqual([
      'space.learning_rate.high: must be a finite number (got Infinity)',
    ]);
    expect(problems(withChange((s) => (s.space.optimizer.choices = ['sgd', { a: 1 }])))).toEqual([
      'space.optimizer.choices.1: must be a number, a string or a boolean (got object)',
    ]);
    expect(problems(withChange((s) => (s.fixed = { weight_decay: [1] })))[0]).toMatch(/^fixed\.weight_decay: must be .* \(got a list\)$/);
    expect(problems(withChange((s) => (s.space = [])))[0]).toBe('space: must be a mapping (got a list)');
  });

  it('checks bounds, log scales and budget limits', () => {
    expect(problems(withChange((s) => (s.space.learning_rate.low = 0)))).toEqual(
      expect.arrayContaining(['space.learning_rate.low: must be > 0 on a log scale']),
    );
    expect(problems(withChange((s) => (s.space.frozen_layers = { type: 'int', low: 5, high: 2 })))).toEqual([
      'space.frozen_layers.low: must be <= high (5 > 2)',
    ]);
    expect(problems(withChange((s) => (s.budget = { max_trials: 100_001, max_epochs: 0, parallelism: 1025 })))).toEqual([
      'budget.max_trials: must be at most 100000 (got 100001)',
      'budget.max_epochs: must be at least 1 (got 0)',
      'budget.parallelism: must be at most 1024 (got 1025)',
    ]);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, { type: 'float', low: 0, high: 1 }]));
    expect(problems({ ...valid(), space: many, trainer: { runner: 'simulate' } })).toEqual([
      'space: must define at most 64 parameters (got 65)',
    ]);
    expect(problems({ ...valid(), space: {} })).toEqual(['space: must define at least one parameter']);
    // A missing space is one problem, not two.
    expect(problems({ ...valid(), space: undefined }).filter((p) => p.startsWith('space'))).toEqual(['space: is required']);
    expect(problems(withChange((s) => (s.space.optimizer.choices = ['momentum', 'rmsprop', 'momentum'])))).toEqual([
      'space.optimizer.choices: must not repeat a choice',
    ]);
    // A high the step never reaches would never be tried: said at submit, with the two highs that work.
    expect(problems(withChange((s) => (s.space.frozen_layers = { type: 'int', low: 0, high: 10, step: 3 })))).toEqual([
      'space.frozen_layers.high: 10 is not reached in steps of 3 from 0 (the last value would be 9): set high to 9 or 12',
    ]);
    expect(() => parseSpec(withChange((s) => (s.space.frozen_layers = { type: 'int', low: 1, high: 10, step: 3 })))).not.toThrow();
  });

  it('checks conditions: known categorical parameters, real choices, no cycles', () => {
    expect(problems(withChange((s) => (s.space.momentum.when = { optimiser: ['momentum'] })))).toEqual([
      'space.momentum.when.optimiser: names no parameter of the space',
    ]);
    expect(problems(withChange((s) => (s.space.momentum.when = { frozen_layers: [1] })))).toEqual([
      'space.momentum.when.frozen_layers: must name a categorical parameter',
    ]);
    expect(problems(withChange((s) => (s.space.momentum.when = { optimizer: ['nesterov'] })))).toEqual([
      'space.momentum.when.optimizer: "nesterov" is not a choice of optimizer',
    ]);
    const cyclic = {
      ...valid(),
      trainer: { runner: 'simulate' },
      space: {
        a: { type: 'categorical', choices: ['x', 'y'], when: { b: ['x'] } },
        b: { type: 'categorical', choices: ['x', 'y'], when: { a: ['x'] } },
      },
    };
    expect(problems(cyclic)).toEqual(['space.a.when: conditions form a cycle: a -> b -> a']);
  });

  it('leaves parameter names to the runner: core knows no runner’s catalogue', () => {
    expect(() => parseSpec({ ...valid(), space: { x: { type: 'float', low: 0, high: 1 } }, fixed: { anything: 'goes' } })).not.toThrow();
  });

  it('lists every problem at once', () => {
    const found = problems({
      name: '',
      objective: { direction: 'up' },
      space: { learning_rate: { type: 'float', low: 1, high: 2, log: 'yes' } },
      budget: { max_trials: 0 },
      extra: true,
    });
    expect(found.length).toBeGreaterThanOrEqual(5);
    expect(found).toEqual(
      expect.arrayContaining([
        'name: must not be empty',
        'objective.direction: must be maximize or minimize (got "up")',
        'space.learning_rate.log: must be a boolean (got "yes")',
        'budget.max_trials: must be at least 1 (got 0)',
        'budget.max_epochs: is required',
        ": unknown key 'extra'",
      ]),
    );
  });

  it('reports schema and cross-field problems together, not in rounds', () => {
    // A new user's first try: no objective, a log scale starting at 0 with no high, a negative budget.
    const found = problems({
      name: 'x',
      space: { learning_rate: { type: 'float', low: 0, log: true } },
      budget: { max_trials: -1 },
    });
    expect(found).toEqual(
      expect.arrayContaining([
        'objective: is required',
        'space.learning_rate.high: is required',
        'space.learning_rate.low: must be > 0 on a log scale',
        'budget.max_trials: must be at least 1 (got -1)',
        'budget.max_epochs: is required',
      ]),
    );
    // Cross-field checks on entries that parsed still run beside schema problems elsewhere.
    expect(problems({ ...valid(), budget: { max_trials: 0, max_epochs: 1 }, space: { a: { type: 'float', low: 2, high: 1 } } })).toEqual([
      'budget.max_trials: must be at least 1 (got 0)',
      'space.a.low: must be <= high (2 > 1)',
    ]);
  });

  it('rejects broken YAML, YAML bombs and deep nesting with a SpecError, quickly', () => {
    expect(() => parseSpecText('name: [unclosed')).toThrow(SpecError);
    expect(() => parseSpecText('name: a\nname: b\n')).toThrow(/not valid YAML/);
    // Each says where, as a person counts lines and columns, and what, in a spec author's words.
    const why = (text: string) => {
      try {
        parseSpecText(text);
      } catch (err) {
        return (err as SpecError).problems[0]?.message;
      }
    };
    expect(why('name: a\nbudget:\n  max_trials: 1\n   max_epochs: 2\n')).toBe(
      'is not valid YAML or JSON at line 3, column 15: Nested mappings are not allowed in compact mappings',
    );
    expect(why('name: a\nspace:\n\tlr: 1\n')).toBe('is not valid YAML or JSON at line 3, column 1: Tabs are not allowed as indentation');
    expect(why('name: a\nbudget: {}\nname: b\n')).toBe(
      "is not valid YAML or JSON at line 3, column 1: the key 'name' appears twice in the same mapping",
    );
    expect(why('"a:b": 1\n"a:b": 2\n')).toBe(
      "is not valid YAML or JSON at line 2, column 1: the key 'a:b' appears twice in the same mapping",
    );
    expect(why('{"name": "a", "name": "b"}')).toBe(
      "is not valid YAML or JSON at line 1, column 15: the key 'name' appears twice in the same mapping",
    );
    expect(why('name: a\n---\nname: b\n')).toBe(
      "is not valid YAML or JSON at line 2, column 1: a second document starts there (after a '---' or '...' line); a spec is one document",
    );
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
      ),
    ].join('\n');
    const started = Date.now();
    expect(() => parseSpecText(bomb)).toThrow(SpecError);
    expect(() => parseSpecText('['.repeat(100_000))).toThrow(/deeper than 64/);
    // A guard against expanding the aliases (a billion nodes), not a speed target.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(() => parseSpecText('42')).toThrow(SpecError);
  });
});

describe('baseline', () => {
  const practitioner = { learning_rate: 0.01, optimizer: 'rmsprop', frozen_layers: 0, momentum: 0.9 };

  it('accepts a point of the space, conditional parameters only where their condition holds', () => {
    expect(parseSpec(withChange((s) => (s.baseline = practitioner))).baseline).toEqual(practitioner);
    const adam = { learning_rate: 1e-4, optimizer: 'adam', frozen_layers: 8 };
    expect(parseSpec(withChange((s) => (s.baseline = adam))).baseline).toEqual(adam);
    expect(parseSpec(valid()).baseline).toBeUndefined();
  });

  it('names every problem by path: unknown, fixed, missing, outside, not a choice, off-step, inactive', () => {
    expect(
      problems(
        withChange((s) => {
          s.baseline = { learning_rate: 0.5, optimizer: 'adagrad', frozen_layers: 2.5, momentum: 0.9, batch_size: 32, epsilon: 1 };
        }),
      ),
    ).toEqual([
      'baseline.batch_size: is fixed for every trial (fixed.batch_size); the baseline gives values only for the parameters of space',
      'baseline.epsilon: names no parameter of the space',
      'baseline.learning_rate: 0.5 is outside the searched range [1e-8, 0.1]; widen space.learning_rate to include it, so the search can model the baseline',
      'baseline.optimizer: "adagrad" is not a choice of space.optimizer ("sgd", "momentum", "rmsprop", "adam")',
      "baseline.frozen_layers: 2.5 is not an integer on space.frozen_layers's step 1 from 0",
      'baseline.momentum: must be absent: its condition (optimizer in "momentum"|"rmsprop") does not hold for the baseline',
    ]);
    expect(problems(withChange((s) => (s.baseline = { learning_rate: 0.01, optimizer: 'rmsprop', frozen_layers: 0 })))).toEqual([
      'baseline.momentum: is missing: the baseline gives the value you run today for every searched parameter that applies',
    ]);
    expect(problems(withChange((s) => (s.baseline = { ...practitioner, learning_rate: 'fast' })))).toEqual([
      'baseline.learning_rate: must be a finite number (got "fast")',
    ]);
  });

  it('reports baseline problems together with problems elsewhere in the spec', () => {
    const found = problems(
      withChange((s) => {
        s.baseline = { ...practitioner, optimizer: 'adagrad' };
        s.budget.max_trials = 0;
      }),
    );
    expect(found).toContain('budget.max_trials: must be at least 1 (got 0)');
    expect(found).toContain('baseline.optimizer: "adagrad" is not a choice of space.optimizer ("sgd", "momentum", "rmsprop", "adam")');
  });
});
