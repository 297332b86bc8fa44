import { LocalBus, type Plugin, type PluginRegistry, type Runner, type Store, type Subscription } from '@sweepd/core';
import { startWorker } from '@sweepd/trainer';
import { type EngineOptions, StudyEngine } from './engine.ts';

/**
 * What the engine's tests share: a strategy and a rule whose decisions are known in advance, a
 * runner whose curve is a known function of the learning rate, an engine with a worker on one
 * local bus, and a poll.
 */

/** Walks learning rates 10^-1, 10^-2, ... (with `fixed` params added), so every trial is known in advance. */
export function walkStrategy(fixed: Record<string, string> = {}): Plugin<'strategy'> {
  return {
    kind: 'strategy',
    name: 'walk',
    parseOptions: (raw) => raw,
    create: () => ({
      async ask(history, n) {
        return Array.from({ length: n }, (_, i) => ({ learning_rate: 10 ** -((history.length + i) % 8) - 1e-9, ...fixed }));
      },
    }),
  };
}

/** Stops any trial whose objective is below 0.65 from its second epoch on. */
export const belowRule: Plugin<'stopping'> = {
  kind: 'stopping',
  name: 'below',
  parseOptions: (raw) => raw,
  create: (_o, ctx) => ({
    decide: (trial) => {
      const last = trial.epochs.at(-1);
      const v = last?.metrics[ctx.metric];
      return last && last.epoch >= 2 && v !== undefined && v < 0.65
        ? { stop: true, reason: `below: ${v} < 0.65 at epoch ${last.epoch}` }
        : { stop: false };
    },
  }),
};

/**
 * A runner whose AUC at epoch e is a known function of the learning rate (best at 1e-3); with
 * `divergeFrom`, it also reports train_loss, NaN from epoch 2 at rates at or above it.
 */
export function curveRunner(delayMs = 0, options: { divergeFrom?: number } = {}): Runner {
  const { divergeFrom } = options;
  return {
    async run(job, ctx) {
      const lr = Number(job.params.learning_rate);
      for (let epoch = 1; epoch <= job.maxEpochs; epoch++) {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        if (ctx.signal.aborted) return { state: 'stopped', reason: String(ctx.signal.reason) };
        const auc = 1 - Math.abs(Math.log10(lr) + 3) / 10 - (job.maxEpochs - epoch) * 0.01;
        const metrics: Record<string, number> = { val_auc_macro: auc };
        if (divergeFrom !== undefined) metrics.train_loss = lr >= divergeFrom && epoch >= 2 ? Number.NaN : 1 / epoch;
        await ctx.report({ epoch, metrics, layers: [] });
      }
      return { state: 'completed' };
    },
  };
}

/** An engine on `store` with a worker of concurrency 2 on one local bus (`bus`: one holding reports already); close() stops all three. */
export async function startEngine(
  store: Store,
  registry: PluginRegistry,
  runner: Runner,
  bus = new LocalBus(),
  options: Partial<EngineOptions> = {},
) {
  const engine = new StudyEngine({ store, bus, registry, ...options });
  const worker: Subscription = await startWorker({ bus, runner, concurrency: 2 });
  await engine.start();
  const close = async () => {
    await engine.close();
    await worker.close();
    await bus.close();
  };
  return { bus, engine, close };
}

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `n` characters PostgreSQL cannot compress below its index row limit (a repeated one it can). */
export function incompressible(n: number): string {
  let x = 12345;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return String.fromCharCode(33 + (x % 90));
  }).join('');
}
