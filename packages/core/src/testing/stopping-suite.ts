import { describe, expect, it } from 'vitest';
import type { StopDecision, StoppingContext, StoppingRule } from '../plugins/contracts.ts';
import { Rng } from '../space/random.ts';
import type { EpochRecord, LayerStats, TrialState, TrialView } from '../types.ts';

/**
 * The contract every stopping rule must keep (built-in or third-party). `factory` builds a fresh
 * instance for a context; the suite runs it for both directions on seeded, deliberately messy
 * histories: gaps, NaN/Infinity, missing metrics and layers, peers in every state, odd tags.
 *
 *   stoppingContractSuite('median', (ctx) => createMedianRule(medianOptionsSchema.parse({}), ctx));
 */
export function stoppingContractSuite(name: string, factory: (ctx: StoppingContext) => StoppingRule | Promise<StoppingRule>): void {
  describe(`stopping rule contract: ${name}`, () => {
    for (const direction of ['maximize', 'minimize'] as const) {
      const ctx: StoppingContext = { direction, metric: 'val_auc', maxEpochs: 12 };

      it(`(${direction}) decides the same for the same inputs, across instances and calls`, async () => {
        const a = await factory(ctx);
        const b = await factory(ctx);
        const studies = [0, 1, 2, 3].map((seed) => makeStudy(seed, ctx, a));
        const first = studies.flatMap((study) => decideEvery(a, study));
        // Interleave another study's calls so hidden state kept between calls would show up.
        const again = studies.flatMap((study) => decideEvery(a, study));
        const other = studies.flatMap((study) => decideEvery(b, study));
        expect(again).toEqual(first);
        expect(other).toEqual(first);
      });

      it(`(${direction}) gives a non-empty reason with every stop`, async () => {
        const rule = await factory(ctx);
        for (const seed of [0, 1, 2, 3, 4, 5]) {
          for (const d of decideEvery(rule, makeStudy(seed, ctx, rule))) {
            if (d.stop) {
              expect(typeof d.reason).toBe('string');
              expect(d.reason.trim().length).toBeGreaterThan(0);
            }
          }
        }
      });

      it(`(${direction}) never throws on empty epochs, NaN, missing metrics or layers, odd tags`, async () => {
        const rule = await factory(ctx);
        const weird = weirdTrials(ctx);
        for (const trial of weird) {
          expect(() => rule.decide(trial, weird)).not.toThrow();
          expect(() => rule.decide(trial, [])).not.toThrow();
          expect(() => rule.decide(trial, [trial])).not.toThrow();
        }
      });

      it(`(${direction}) never stops a trial that has reported no epoch`, async () => {
        const rule = await factory(ctx);
        const peers = makeStudy(7, ctx, rule);
        const empty: TrialView = { id: 'empty', number: 99, params: { lr: 0.1 }, state: 'running', epochs: [] };
        expect(rule.decide(empty, peers)).toEqual({ stop: false });
        expect(rule.decide(empty, [])).toEqual({ stop: false });
        expect(rule.decide({ ...empty, epochs: [{ epoch: 0, metrics: {}, layers: [] }] }, peers).stop).toBe(false);
      });

      it(`(${direction}) does not modify the trial or its peers`, async () => {
        const rule = await factory(ctx);
        const study = makeStudy(3, ctx, rule).map(deepFreeze);
        for (const trial of study) expect(() => rule.decide(trial, study)).not.toThrow();
      });

      it(`(${direction}) tags new trials deterministically with plain values`, async () => {
        const a = await factory(ctx);
        const b = await factory(ctx);
        if (!a.tagsForTrial) return;
        for (let n = 0; n < 300; n++) {
          const tags = a.tagsForTrial(n);
          expect(b.tagsForTrial?.(n)).toEqual(tags);
          expect(a.tagsForTrial(n)).toEqual(tags);
          for (const v of Object.values(tags)) expect(['number', 'string', 'boolean']).toContain(typeof v);
        }
      });
    }
  });
}

/** Every (trial, epoch-prefix) decision of a study, in order: the same view a study loop gives. */
function decideEvery(rule: StoppingRule, study: readonly TrialView[]): StopDecision[] {
  const out: StopDecision[] = [];
  for (const trial of study) {
    for (let k = 1; k <= trial.epochs.length; k++) {
      const prefix: TrialView = { ...trial, state: 'running', epochs: trial.epochs.slice(0, k) };
      out.push(
        rule.decide(
          prefix,
          study.filter((p) => p.id !== trial.id),
        ),
      );
    }
  }
  return out;
}

const STATES: readonly TrialState[] = ['completed', 'stopped', 'failed', 'running', 'queued'];

/**
 * A study of 14 trials: learning curves of different quality (some very bad, some diverging,
 * some with stalled or dying layers) so that every built-in rule has something to stop.
 */
function makeStudy(seed: number, ctx: StoppingContext, rule: StoppingRule): TrialView[] {
  const rng = new Rng(`stopping-contract-${seed}`);
  const trials: TrialView[] = [];
  for (let n = 0; n < 14; n++) {
    const quality = rng.next();
    const length = 1 + rng.int(ctx.maxEpochs);
    const kind = rng.int(6); // 0: healthy, 1: stalls, 2: dies, 3: diverges, 4: NaN objective, 5: gaps
    const epochs: EpochRecord[] = [];
    let loss = 1 + rng.next();
    for (let epoch = 1; epoch <= length; epoch++) {
      if (kind === 5 && epoch % 3 === 2) continue;
      const progress = 1 - Math.exp(-epoch / (1 + 4 * rng.next()));
      let auc = 0.5 + 0.45 * quality * progress + 0.01 * rng.normal();
      loss = kind === 3 ? loss * 3 : loss * (0.8 + 0.1 * rng.next());
      if (kind === 4 && epoch > 2) auc = Number.NaN;
      const value = ctx.direction === 'maximize' ? auc : 1 - auc;
      epochs.push({
        epoch,
        metrics: { [ctx.metric]: value, train_loss: kind === 3 && epoch > 4 ? Number.POSITIVE_INFINITY : loss, val_loss: loss * 1.1 },
        layers: makeLayers(rng, kind, epoch),
        ...(kind === 1 ? { notes: { diagnostics: { stalled: epoch > 2, dying: false } } } : {}),
      });
    }
    const tags = rule.tagsForTrial?.(n);
    trials.push({
      id: `t${seed}-${n}`,
      number: n,
      params: { lr: 10 ** (-8 + 7 * rng.next()), optimizer: rng.pick(['sgd', 'adam']) },
      state: rng.pick(STATES),
      epochs,
      ...(tags ? { tags } : {}),
    });
  }
  return trials;
}

function makeLayers(rng: Rng, kind: number, epoch: number): LayerStats[] {
  const names = ['conv1', 'conv2', 'dense', 'head'];
  return names.map((layer, i) => ({
    layer,
    trainable: i > 0,
    kernelMovement: 0.01 * epoch,
    updateRatio: kind === 1 && epoch > 2 ? 1e-6 * rng.next() : 1e-2 * rng.next(),
    deadFraction: kind === 2 ? Math.min(1, 0.3 + 0.15 * epoch) : 0.05 * rng.next(),
    sparsity: 0.5,
  }));
}

/** Histories no rule may throw on. */
function weirdTrials(ctx: StoppingContext): TrialView[] {
  const m = ctx.metric;
  const base = { params: {}, state: 'running' as const };
  const rec = (
    epoch: number,
    metrics: Record<string, number>,
    layers: LayerStats[] = [],
    notes?: Record<string, unknown>,
  ): EpochRecord => ({
    epoch,
    metrics,
    layers,
    ...(notes ? { notes } : {}),
  });
  return [
    { ...base, id: 'w-empty', number: 0, epochs: [] },
    { ...base, id: 'w-nan', number: 1, epochs: [1, 2, 3, 4, 5].map((e) => rec(e, { [m]: Number.NaN, train_loss: Number.NaN })) },
    {
      ...base,
      id: 'w-inf',
      number: 2,
      epochs: [1, 2, 3].map((e) => rec(e, { [m]: e % 2 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY })),
    },
    { ...base, id: 'w-nometric', number: 3, epochs: [1, 2, 3, 4].map((e) => rec(e, { other: 0.3 })) },
    { ...base, id: 'w-nolayers', number: 4, epochs: [1, 2, 3, 4, 5, 6].map((e) => rec(e, { [m]: 0.6 })) },
    {
      ...base,
      id: 'w-layers-nan',
      number: 5,
      epochs: [1, 2, 3, 4].map((e) =>
        rec(e, { [m]: 0.7 }, [{ layer: 'x', trainable: true, updateRatio: Number.NaN, deadFraction: Number.NaN }], { diagnostics: null }),
      ),
    },
    { ...base, id: 'w-odd-notes', number: 6, epochs: [1, 2, 3].map((e) => rec(e, { [m]: 0.7 }, [], { diagnostics: 'stalled' })) },
    {
      ...base,
      id: 'w-gaps',
      number: 7,
      epochs: [rec(1, { [m]: 0.5 }), rec(4, { [m]: 0.6 }), rec(9, { [m]: 0.65 }), rec(16, { [m]: 0.7 })],
    },
    { ...base, id: 'w-unordered', number: 8, epochs: [rec(3, { [m]: 0.7 }), rec(1, { [m]: 0.5 }), rec(2, { [m]: 0.6 })] },
    { ...base, id: 'w-tags', number: 9, tags: { bracket: 'seven', extra: true }, epochs: [1, 2, 3].map((e) => rec(e, { [m]: 0.6 })) },
    { ...base, id: 'w-bracket-big', number: 10, tags: { bracket: 1e9 }, epochs: [1, 2, 3].map((e) => rec(e, { [m]: 0.6 })) },
    { ...base, id: 'w-negative-number', number: -3, epochs: [1].map((e) => rec(e, { [m]: 0.6 })) },
    { ...base, id: 'w-zero-loss', number: 11, epochs: [1, 2, 3].map((e) => rec(e, { [m]: 0.6, train_loss: 0, val_loss: -1 })) },
    {
      ...base,
      id: 'w-beyond-max',
      number: 12,
      epochs: Array.from({ length: ctx.maxEpochs + 5 }, (_, i) => rec(i + 1, { [m]: 0.5 + i / 100 })),
    },
  ];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
