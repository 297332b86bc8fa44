import type { Runner, RunnerContext, TrialJob, TrialOutcome } from '@sweepd/core';
import type { GpuSlots } from './gpus.ts';
import type { CommandRunner } from './runner.ts';

/**
 * A worker's runner: `command` trials run in the worker itself (their script is already a process
 * of its own, and its stop sequence must not be cut short by a trainer process being killed), each
 * on a GPU of its own when the worker has GPUs; every other runner goes to `other` (the trainer
 * process pool).
 */
export class CommandRoutingRunner implements Runner {
  // A command trial waiting for a GPU has not started: it says so once it has one.
  readonly reportsStart = true;

  constructor(
    private readonly command: CommandRunner,
    private readonly other: Runner,
    private readonly gpus?: GpuSlots,
  ) {}

  async run(job: TrialJob, ctx: RunnerContext): Promise<TrialOutcome> {
    if (job.trainer.runner !== 'command') {
      ctx.started?.();
      return this.other.run(job, ctx);
    }
    if (!this.gpus) {
      ctx.started?.();
      return this.command.run(job, ctx);
    }
    const gpu = await this.gpus.acquire();
    ctx.started?.();
    try {
      return await this.command.runOn(job, ctx, { gpu });
    } finally {
      this.gpus.release(gpu);
    }
  }

  async close(): Promise<void> {
    await this.other.close?.();
  }
}
