import { describe, expect, it } from 'vitest';
import type { Plugin, SearchStrategy, StrategyContext, Suggestion } from '../plugins/contracts.ts';
import { Rng } from '../space/random.ts';
import { checkParams, paramsKey, sampleSpace } from '../space/space.ts';
import type { Space } from '../spec/schema.ts';
import type { Params, TrialState, TrialView } from '../types.ts';

/** How the suite gets a fresh strategy: a plugin (with options for it) or a factory. */
export type StrategyMaker = Plugin<'strategy'> | ((ctx: StrategyContext) => SearchStrategy | Promise<SearchStrategy>);

export interface StrategySuiteOptions {
  /** Options handed to the plugin's parseOptions (ignored for a factory). */
  options?: unknown;
  /** Time one ask may take on a 10,000-trial history. Default 10 s. */
  bigHistoryMs?: number;
}

/** The suite's space: log float, categorical, int, and a float that exists only for some optimizers. */
export const SUITE_SPACE: Space = {
  learning_rate: { type: 'float', low: 1e-8, high: 1e-1, log: true },
  optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
  frozen_layers: { type: 'int', low: 0, high: 10, step: 2, log: false },
  momentum: { type: 'float', low: 0, high: 0.99, log: false, when: { optimizer: ['momentum', 'rmsprop'] } },
};

/** A deterministic objective over SUITE_SPACE (higher is better), for histories with signal in them. */
export function suiteObjective(params: Params): number {
  const lr = Number(params.learning_rate);
  const z = (Math.log10(lr) + 4) / 1.5;
  const bonus = params.optimizer === 'adam' ? 0.02 : 0;
  return 0.5 + 0.4 * Math.exp(-0.5 * z * z) + bonus - 0.003 * Math.abs(Number(params.frozen_layers) - 6);
}

function paramsOf(item: Params | Suggestion): Params {
  const maybe = item as Partial<Suggestion>;
  return maybe && typeof maybe === 'object' && maybe.params && typeof maybe.params === 'object'
    ? (maybe.params as Params)
    : (item as Params);
}

function trial(number: number, params: Params, state: TrialState, value?: number): TrialView {
  return { id: `t${number}`, number, params, state, ...(value === undefined ? {} : { value }), epochs: [] };
}

/** A history of `count` random trials in mixed states with random (sometimes missing) values. */
export function randomHistory(space: Space, count: number, seed: number): TrialView[] {
  const rng = new Rng(`history:${seed}`);
  const states: TrialState[] = ['completed', 'completed', 'completed', 'completed', 'stopped', 'failed', 'running', 'queued'];
  return Array.from({ length: count }, (_, i) => {
    const state = states[rng.int(states.length)] as TrialState;
    const value = state === 'completed' || state === 'stopped' ? rng.next() : undefined;
    return trial(i, sampleSpace(space, rng), state, value);
  });
}

/** Asks one at a time, completing each trial with suiteObjective, and returns the history. */
async function drive(strategy: SearchStrategy, count: number): Promise<TrialView[]> {
  const history: TrialView[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await strategy.ask(history, 1);
    if (answer === 'done' || answer.length === 0) break;
    const params = paramsOf(answer[0] as Params);
    history.push(trial(i, params, 'completed', suiteObjective(params)));
  }
  return history;
}

/**
 * The contract every search strategy keeps (built-in or third-party): suggestions inside the
 * space with conditionals respected, pure in (options, space, history), robust to any history,
 * distinct suggestions within a batch and against running trials, and a sane 'done'/[].
 */
export function strategyContractSuite(name: string, maker: StrategyMaker, suite: StrategySuiteOptions = {}): void {
  const make = async (space: Space = SUITE_SPACE, direction: 'maximize' | 'minimize' = 'maximize'): Promise<SearchStrategy> => {
    const ctx: StrategyContext = { space, direction, metric: 'val_auc_macro', maxTrials: 1000, maxEpochs: 10 };
    if (typeof maker === 'function') return maker(ctx);
    return maker.create(maker.parseOptions(suite.options ?? {}), ctx);
  };
  const expectValid = (space: Space, answer: Array<Params | Suggestion> | 'done', n: number) => {
    expect(answer === 'done' || Array.isArray(answer), 'ask returns an array or "done"').toBe(true);
    if (answer === 'done') return [];
    expect(answer.length).toBeLessThanOrEqual(n);
    const all = answer.map(paramsOf);
    for (const params of all) expect(checkParams(space, params), JSON.stringify(params)).toEqual([]);
    return all;
  };

  describe(`strategy contract: ${name}`, () => {
    it('suggests parameters inside the space from an empty history', async () => {
      const s = await make();
      const answer = await s.ask([], 4);
      expect(answer).not.toBe('done');
      const params = expectValid(SUITE_SPACE, answer, 4);
      expect(params.length).toBeGreaterThanOrEqual(1);
    });

    it('respects the space and its conditionals while it learns (40 sequential trials)', async () => {
      const history = await drive(await make(), 40);
      expect(history.length).toBeGreaterThanOrEqual(1);
      for (const t of history) {
        expect(checkParams(SUITE_SPACE, t.params), JSON.stringify(t.params)).toEqual([]);
        const gated = t.params.optimizer === 'momentum' || t.params.optimizer === 'rmsprop';
        expect('momentum' in t.params).toBe(gated);
      }
    });

    it('is reproducible: fresh instances with the same history give the same answer, and asking twice changes nothing', async () => {
      const history = await drive(await make(), 25);
      const a = await make();
      const b = await make();
      const first = await a.ask(history, 3);
      expect(await b.ask(history, 3)).toEqual(first);
      expect(await a.ask(history, 3)).toEqual(first);
      // The same history in a different array order is the same history.
      expect(await b.ask([...history].reverse(), 3)).toEqual(first);
    });

    it('handles a 10,000-trial history in reasonable time', async () => {
      const s = await make();
      const history = randomHistory(SUITE_SPACE, 10_000, 1);
      const t0 = performance.now();
      const answer = await s.ask(history, 2);
      const ms = performance.now() - t0;
      expectValid(SUITE_SPACE, answer, 2);
      expect(ms).toBeLessThan(suite.bigHistoryMs ?? 10_000);
    });

    it('never throws on NaN, ±Infinity or missing values, failed trials or malformed params', async () => {
      for (const direction of ['maximize', 'minimize'] as const) {
        const s = await make(SUITE_SPACE, direction);
        const rng = new Rng(7);
        const odd = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined];
        const history: TrialView[] = [];
        for (let i = 0; i < 40; i++) {
          const params = sampleSpace(SUITE_SPACE, rng);
          const roll = i % 8;
          if (roll === 0) history.push(trial(i, params, 'failed'));
          else if (roll === 1) history.push(trial(i, params, 'completed', odd[(i >> 3) % odd.length]));
          else if (roll === 2) history.push(trial(i, {}, 'completed', 0.5));
          else if (roll === 3) history.push(trial(i, { ...params, learning_rate: 'fast', optimizer: 42 }, 'completed', 0.6));
          else if (roll === 4) history.push(trial(i, params, 'stopped', rng.next()));
          else history.push(trial(i, params, 'completed', rng.next()));
        }
        expectValid(SUITE_SPACE, await s.ask(history, 3), 3);
        // Every finished trial failed: nothing to learn from, still an answer.
        const failed = history.map((t) => ({ ...t, state: 'failed' as const, value: undefined }));
        expectValid(SUITE_SPACE, await s.ask(failed, 2), 2);
      }
    });

    it('gives distinct suggestions within a batch and away from running trials', async () => {
      const s = await make();
      const empty = expectValid(SUITE_SPACE, await s.ask([], 8), 8);
      expect(new Set(empty.map(paramsKey)).size).toBe(empty.length);
      const history = await drive(await make(), 20);
      const batch = expectValid(SUITE_SPACE, await s.ask(history, 8), 8);
      expect(new Set(batch.map(paramsKey)).size).toBe(batch.length);
      // The batch now runs; asking again must not pile onto the running points.
      const running = [...history, ...batch.map((p, i) => trial(history.length + i, p, 'running'))];
      const more = expectValid(SUITE_SPACE, await s.ask(running, 8), 8);
      const keys = new Set([...batch, ...more].map(paramsKey));
      expect(keys.size).toBe(batch.length + more.length);
    });

    it('answers n = 0 with nothing, and on a tiny space ends in a sticky "done" or keeps answering validly', async () => {
      const s = await make();
      const zero = await s.ask([], 0);
      expect(zero === 'done' || zero.length === 0).toBe(true);
      const tiny: Space = { optimizer: { type: 'categorical', choices: ['sgd', 'adam'] } };
      const t = await make(tiny);
      const history: TrialView[] = [];
      let done = false;
      for (let i = 0; i < 6 && !done; i++) {
        const answer = await t.ask(history, 1);
        if (answer === 'done') {
          done = true;
          expect(history.length).toBeGreaterThanOrEqual(2);
          expect(await t.ask(history, 1)).toBe('done');
          break;
        }
        const [params] = expectValid(tiny, answer, 1);
        if (params) history.push(trial(i, params, 'completed', i));
      }
    });
  });
}
