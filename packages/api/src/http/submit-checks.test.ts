import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestApp } from './test-app.ts';

const api = useTestApp();

async function submit(yaml: string, to = api): Promise<{ status: number; problems: string[] }> {
  const res = await to.app.request('/v1/studies', { method: 'POST', body: yaml, headers: { 'content-type': 'application/yaml' } });
  const body = (await res.json()) as { problems?: { path: string; message: string }[] };
  return { status: res.status, problems: (body.problems ?? []).map((p) => `${p.path}: ${p.message}`) };
}

describe('submit-time checks', () => {
  it('400: an unknown dataset and frozen_layers beyond the model, with the spec’s own problems, in one answer', async () => {
    const { status, problems } = await submit(`
name: x
space:
  learning_rate: { type: float, low: 0, high: 0.1, log: true }
  frozen_layers: { type: int, low: 0, high: 8 }
budget: { max_trials: -1, max_epochs: 2 }
strategy: { name: tpe, options: { seed: -1 } }
stopping: [ { name: median, options: { warmup_epochs: -2 } } ]
trainer: { runner: tfjs, dataset: imagenet }
`);
    expect(status).toBe(400);
    expect(problems).toEqual(
      expect.arrayContaining([
        'objective: is required',
        'budget.max_trials: must be at least 1 (got -1)',
        'space.learning_rate.low: must be > 0 on a log scale',
        expect.stringMatching(/^space\.learning_rate\.low: must be in \(0, 10\]/),
        expect.stringMatching(/^trainer\.dataset: unknown dataset "imagenet"/),
        expect.stringMatching(/^space\.frozen_layers\.high: must be at most 4: model builtin:small-cnn has 5 layers/),
        expect.stringMatching(/^strategy\.options\.seed: /),
        expect.stringMatching(/^stopping\.0\.options\.warmup_epochs: /),
      ]),
    );
    expect(await api.store.listStudies()).toEqual([]);
  });

  it('400: a spec with hundreds of problems lists the first 100 and how many more, not megabytes of them', async () => {
    const space = Array.from({ length: 300 }, (_, i) => `  p${i}: { type: float, low: 1, high: 0 }`).join('\n');
    const { status, problems } = await submit(`name: many\nobjective: { metric: val_auc_macro }\nspace:\n${space}\n`);
    expect(status).toBe(400);
    expect(problems).toHaveLength(101);
    expect(problems.at(-1)).toMatch(/^: and \d+ more problems$/);
  });

  it('400: a parameter with a problem of its own is not also called missing by the runner', async () => {
    const spec = (optimizer: string, lr = '{ type: float, low: 1.0e-5, high: 1.0e-1, log: true }') => `
name: own-problem
objective: {}
space:
  learning_rate: ${lr}
  optimizer: ${optimizer}
budget: { max_trials: 4, max_epochs: 2 }
trainer: { runner: simulate, options: { curve: lr_auc } }
`;
    // These said besides: "space: the simulate runner's lr_auc curve needs optimizer, in space or fixed".
    expect(await submit(spec('{ type: categorical, choices: [] }'))).toEqual({
      status: 400,
      problems: ['space.optimizer.choices: must list at least one choice'],
    });
    expect(await submit(spec('{ type: categorical, choices: [adam] }', '{ type: float, low: 1.0e-5, high: 1.0e-1, log: yes }'))).toEqual({
      status: 400,
      problems: ['space.learning_rate.log: must be a boolean (got "yes")'],
    });
    // The command runner's placeholders likewise.
    const command = await submit(`
name: own-problem-command
objective: {}
space:
  lr: { type: float, low: 1.0e-5, high: 1.0e-1, log: maybe }
budget: { max_trials: 4, max_epochs: 2 }
trainer: { runner: command, options: { command: [python3, -c, pass, '--lr={lr}'], args: placeholders } }
`);
    expect(command).toEqual({ status: 400, problems: ['space.lr.log: must be a boolean (got "maybe")'] });
    // An optimizer the lr_auc curve does not model is refused at submit, not a study whose every trial fails.
    expect(await submit(spec('{ type: categorical, choices: [adam, adamw] }'))).toEqual({
      status: 400,
      problems: ['space.optimizer.choices: the lr_auc curve models sgd, momentum, rmsprop, adam only, not "adamw"'],
    });
    expect(await api.store.listStudies()).toEqual([]);
  });

  it("400: an option one typo from a known one says which was meant, as a top-level key's does", async () => {
    const { status, problems } = await submit(`
name: typo
objective: {}
space:
  learning_rate: { type: float, low: 1.0e-5, high: 1.0e-1, log: true }
  optimizer: { type: categorical, choices: [adam] }
strategy: { name: tpe, options: { n_startup_trial: 2, sead: 1 } }
stopping: [ { name: median, options: { warmup_epoch: 1 } } ]
budget: { max_trials: 8, max_epochs: 3 }
trainer: { runner: simulate, options: { curve: lr_auc, epoch_delay_m: 1 } }
`);
    expect(status).toBe(400);
    expect(problems).toEqual([
      "trainer.options: unknown key 'epoch_delay_m' (did you mean 'epoch_delay_ms'?)",
      "strategy.options: unknown keys 'n_startup_trial' (did you mean 'n_startup_trials'?), 'sead' (did you mean 'seed'?)",
      "stopping.0.options: unknown key 'warmup_epoch' (did you mean 'warmup_epochs'?)",
    ]);
  });

  it('400: an unknown runner is named with the known ones', async () => {
    const { status, problems } = await submit(`
name: y
objective: { metric: val_auc_macro }
space: { learning_rate: { type: float, low: 0.001, high: 0.1 } }
budget: { max_trials: 1, max_epochs: 1 }
trainer: { runner: tfjs-gpu }
`);
    expect(status).toBe(400);
    expect(problems[0]).toMatch(/^trainer\.runner: no runner named 'tfjs-gpu' \(known: .*tfjs/);
  });

  it('400: a budget typo is its own problem, not also a stopping rule judged against a stand-in budget', async () => {
    const { status, problems } = await submit(`
name: z
objective: { metric: val_auc_macro, direction: maximize }
space: { learning_rate: { type: float, low: 0.001, high: 0.1, log: true } }
budget: { max_trials: 2, max_epochs: 4, parallelism: 0 }
stopping: [ { name: median } ]
trainer: { runner: simulate, options: { curve: lr_auc } }
`);
    expect(status).toBe(400);
    expect(problems.filter((p) => /^(budget|stopping)/.test(p))).toEqual(['budget.parallelism: must be at least 1 (got 0)']);
  });
});

describe("the README's example spec", () => {
  // An app of its own: the study it makes would be in the way of the checks above that nothing is stored.
  const own = useTestApp();

  it('is accepted as it is written (it once froze more layers than its model has)', async () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../../../README.md'), 'utf8');
    const example = /## The search spec\s+```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const { status, problems } = await submit(example as string, own);
    expect([status, problems]).toEqual([201, []]);
  });
});

describe('submit-time warnings', () => {
  const own = useTestApp();

  it('201 with warnings: what runs as written but is likely not what was meant, each by path', async () => {
    const res = await own.app.request('/v1/studies', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: `
name: keras-tb
objective: { metric: val_auc_macro }
space: { learning_rate: { type: float, low: 0.0001, high: 0.1, log: true } }
budget: { max_trials: 2, max_epochs: 2, parallelism: 4 }
trainer:
  runner: command
  options:
    command: [python3, -c, "pass"]
    tensorboard: { dir: tb, tags: { validation/epoch_auc: val_auc } }
`,
    });
    const body = (await res.json()) as { id: string; warnings?: string[] };
    expect(res.status).toBe(201);
    expect(body.warnings).toEqual([
      'budget.parallelism: 4 is more than max_trials (2): at most 2 trial(s) run at once',
      expect.stringMatching(
        /^objective\.metric: 'val_auc_macro' is not a metric of trainer\.options\.tensorboard\.tags \(val_auc\): unless the script reports it itself/,
      ),
    ]);
    expect((await own.store.getStudy(body.id))?.spec.name).toBe('keras-tb');
  });
});
