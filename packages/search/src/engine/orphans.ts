import type { ActiveStudy, LiveTrial } from './active-study.ts';
import { type EngineContext, errorText, within } from './context.ts';
import { queueForAnotherWorker } from './requeue.ts';

/** How often the engine asks the workers which trials they run, where the bus can tell (NATS). */
export const ORPHAN_CHECK_MS = 30_000;
/** How long one roll call may take before that check is skipped. */
const ROLL_CALL_BOUND_MS = 5_000;

/**
 * Finds running trials whose worker has gone. A worker killed under a trial (kill -9, a lost
 * machine) sends no end, and its job waits in the queue until another worker takes it; until then
 * the trial would read running, on a worker that is not there. Missing from the workers' answers
 * at two checks in a row (one may fall between a trial's end and the report of it), the trial
 * reads queued again, as one handed back at shutdown does, and a trial being stopped ends stopped.
 */
export class OrphanWatch {
  /** Trials missing from the last check's answers. */
  private missing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly everyMs: number = ORPHAN_CHECK_MS,
  ) {}

  start(): void {
    if (!this.ctx.bus.runningTrials || this.timer) return;
    this.timer = setInterval(() => void this.check(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async check(): Promise<void> {
    const { ctx } = this;
    if (this.checking || ctx.closing || ctx.catchingUp || !ctx.bus.runningTrials) return;
    this.checking = true;
    try {
      const running = [...ctx.active.values()].flatMap((study) =>
        study
          .inFlight()
          .filter((t) => t.state === 'running')
          .map((trial) => ({ study, trial })),
      );
      if (running.length === 0) {
        this.missing.clear();
        return;
      }
      const held = await within(ctx.bus.runningTrials(), ROLL_CALL_BOUND_MS);
      if (!held || ctx.closing) return; // no answer: nothing learnt (a failed roll call throws: the same)
      const lost: { study: ActiveStudy; trial: LiveTrial }[] = [];
      const missing = new Set<string>();
      for (const { study, trial } of running) {
        // Read after the roll call: a trial that ended meanwhile is not missing.
        if (trial.state !== 'running' || held.has(trial.id)) continue;
        if (this.missing.has(trial.id)) lost.push({ study, trial });
        else missing.add(trial.id);
      }
      this.missing = missing;
      for (const { study, trial } of lost) {
        ctx.log.warn(
          { studyId: study.id, trial: trial.number },
          'no worker runs this trial any more (its worker was killed or cut off): it waits for another worker to take its job',
        );
      }
      await queueForAnotherWorker(
        ctx,
        lost.map(({ study, trial }) => ({ study, trial, attempt: trial.attempt })),
        "trial's worker gone: queued for another",
      );
    } catch (err) {
      ctx.log.warn({ err: errorText(err) }, 'could not check which trials the workers run');
    } finally {
      this.checking = false;
    }
  }
}
