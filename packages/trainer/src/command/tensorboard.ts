import path from 'node:path';
import type { EpochRecord } from '@sweepd/core';
import type { CommandOptions } from './options.ts';
import type { ReportSink } from './report-sink.ts';

const POLL_MS = 1_000;

/**
 * Follows the event files a script writes (option `tensorboard`) and hands each completed epoch to
 * the sink, like a metrics-file line. The collector is loaded only by trials that use it.
 */
export async function startTensorBoard(
  options: NonNullable<CommandOptions['tensorboard']>,
  trialDir: string,
  sink: Pick<ReportSink, 'epoch' | 'problem' | 'unmappedLeft'>,
  log: (message: string) => void,
): Promise<{ stop(opts?: { cutShort?: boolean }): Promise<void> }> {
  const { TensorBoardCollector } = await import('../tensorboard/index.ts');
  const dir = path.resolve(trialDir, options.dir);
  const collector = new TensorBoardCollector({
    dir,
    tags: options.tags,
    ...(options.steps_per_epoch !== undefined && { stepsPerEpoch: options.steps_per_epoch }),
    ...(options.epoch_metric !== undefined && { epochMetric: options.epoch_metric }),
    log,
    onProblem: (problem) => sink.problem(`tensorboard: ${problem}`),
  });
  let polling: Promise<void> = Promise.resolve();
  const take = (read: () => Promise<EpochRecord[]>) => {
    polling = polling
      .then(read)
      .then((epochs) => {
        for (const e of epochs) sink.epoch(e);
      })
      .catch((err: unknown) => sink.problem(`tensorboard: ${err instanceof Error ? err.message : String(err)}`));
    return polling;
  };
  const timer = setInterval(() => void take(() => collector.poll()), POLL_MS);
  return {
    /** `cutShort`: the script was stopped or died, so its last epoch may be a fragment (see finish()). */
    async stop({ cutShort = false } = {}) {
      clearInterval(timer);
      await take(() => collector.finish({ cutShort }));
      // A misspelt epoch metric ends no epoch, so no epoch's notes name what the files hold: the failure still can.
      sink.unmappedLeft(collector.unmappedLeft());
      // Said where the failure (if any) is told: a script that wrote its summaries elsewhere (its own
      // default log dir, say) otherwise fails only as "the objective was never reported".
      if (collector.filesFound() === 0)
        sink.problem(
          `tensorboard: no event file (events.out.tfevents.*) appeared under ${dir} (tensorboard.dir '${options.dir}', in the trial directory): does the script write its summaries there?`,
        );
    },
  };
}
