import { parseSpec } from '@sweepd/core';
import { openStore } from '@sweepd/core/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaderboard, leaderboardPage, storePageRows } from './leaderboard.ts';

// The store's SQL ranking must give exactly the rows the in-memory ranking gives, page by page:
// values with ties, NaN, no value at all, failed trials with and without a value, in both directions.
describe('leaderboard pages ranked by the store', () => {
  const store = openStore({ dataDir: 'memory://' });
  afterAll(async () => (await store).close());

  for (const direction of ['maximize', 'minimize'] as const) {
    describe(direction, () => {
      const spec = parseSpec({
        name: `page-${direction}`,
        objective: { metric: 'auc', direction },
        space: { lr: { type: 'float', low: 1e-5, high: 1e-1, log: true } },
        strategy: { name: 'random' },
        budget: { max_trials: 40, max_epochs: 3, parallelism: 4 },
        trainer: { runner: 'noop' },
      });
      let studyId = '';
      beforeAll(async () => {
        const s = await store;
        const study = await s.createStudy({ spec, specText: JSON.stringify(spec) });
        studyId = study.id;
        const created = await s.createTrials(
          study.id,
          Array.from({ length: 40 }, (_, i) => ({ params: { lr: 10 ** (-5 + (i % 9) / 2) } })),
        );
        const values = created.map((_, i) => (i % 10 === 3 ? Number.NaN : ([0.7, 0.9, 0.8, 0.9, 0.6][i % 5] as number)));
        await s.recordEpochs(
          created.flatMap((t, i) =>
            i % 8 === 7
              ? []
              : [1, 2].map((epoch) => ({ trialId: t.id, epoch, metrics: { auc: epoch === 2 ? (values[i] as number) : 0.5 }, layers: [] })),
          ),
          spec.objective,
        );
        // Trials 7, 15, … failed before any epoch; 5, 13, … after reporting a value.
        await s.finishTrials(created.map((t, i) => ({ trialId: t.id, state: i % 8 === 7 || i % 8 === 5 ? 'failed' : 'completed' })));
      });

      it("lists each row's parameters in the spec's order, not the store's", async () => {
        const s = await store;
        const ordered = parseSpec({
          ...spec,
          name: `order-${direction}`,
          space: {
            zeta: { type: 'int', low: 0, high: 3 },
            optimizer: { type: 'categorical', choices: ['adam', 'sgd'] },
            lr: { type: 'float', low: 1e-5, high: 1e-1, log: true },
          },
        });
        const study = await s.createStudy({ spec: ordered, specText: JSON.stringify(ordered) });
        const [t] = await s.createTrials(study.id, [{ params: { lr: 0.01, optimizer: 'adam', zeta: 2 } }]);
        await s.recordEpochs([{ trialId: t?.id as string, epoch: 1, metrics: { auc: 0.7 }, layers: [] }], ordered.objective);
        const page = await s.leaderboardPage?.(study.id, direction, { limit: 5 });
        if (!page) throw new Error('the drizzle store ranks in SQL: leaderboardPage must exist');
        expect(Object.keys(storePageRows(page, ordered, 0)[0]?.params ?? {})).toEqual(['zeta', 'optimizer', 'lr']);
        expect(Object.keys(leaderboard(await s.listTrials(study.id), ordered)[0]?.params ?? {})).toEqual(['zeta', 'optimizer', 'lr']);
      });

      it('matches the in-memory leaderboard at every offset and limit', async () => {
        const s = await store;
        if (!s.leaderboardPage) throw new Error('the drizzle store ranks in SQL: leaderboardPage must exist');
        const all = leaderboard(await s.listTrials(studyId), spec);
        expect(all.filter((r) => r.rank === null).length).toBeGreaterThan(4);
        // A failed trial keeps its value on the board, unranked.
        const failedWithValue = all.filter((r) => r.state === 'failed' && r.value !== null);
        expect(failedWithValue.length).toBeGreaterThan(2);
        expect(failedWithValue.every((r) => r.rank === null)).toBe(true);
        for (const [offset, limit] of [
          [0, 10],
          [0, undefined],
          [5, 7],
          [30, 10],
          [33, 3],
          [38, 50],
          [45, 5],
        ] as const) {
          const page = await s.leaderboardPage(studyId, direction, { limit, offset });
          expect(page.total).toBe(40);
          const strip = (rows: typeof all) => rows.map(({ params, ...r }) => ({ ...r, lr: params.lr }));
          expect(strip(storePageRows(page, spec, offset)), `offset ${offset} limit ${limit}`).toEqual(
            strip(leaderboardPage(all, { offset, ...(limit !== undefined && { limit }) })),
          );
        }
      });
    });
  }
});
