import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hostname } from 'node:os';
import type { EpochRecord, Runner, RunnerContext, TrialJob, TrialOutcome } from '@sweepd/core';
import { buildArgv } from './argv.ts';
import { type CommandOptions, parseCommandOptions } from './options.ts';
import { ReportSink } from './report-sink.ts';
import { FileTail } from './metrics-tail.ts';
import { decideOutcome, type EndFacts } from './outcome.ts';
import { startTensorBoard } from './tensorboard.ts';
import { type ProcessEnd, TrialProcess } from './trial-process.ts';
import { endOrphanGroup, endOrphanGroups, groupRunsUnderLiveWorker } from './orphan-groups.ts';

/** How long an orphaned trial's processes get between SIGTERM and SIGKILL (term_grace_s's default). */
const ORPHAN_TERM_GRACE_MS = 3_000;

/** What a worker decides about where a trial runs. */
export interface Placement {
  /** The GPU index for CUDA_VISIBLE_DEVICES; unset leaves the worker's own environment as it is. */
  gpu?: string;
}

export interface CommandRunnerOptions {
  /** SWEEPD_CACHE_DIR of every trial; trial directories go to `<cacheDir>/../trials/<trialId>` unless `trialsDir` says. */
  cacheDir: string;
  trialsDir?: string;
  /**
   * Hide every GPU from trials given none (CUDA_VISIBLE_DEVICES empty): a worker started with
   * --gpus none is a CPU worker, and its scripts would otherwise see every GPU of a GPU host.
   */
  hideGpus?: boolean;
}

/** Where the `@sweepd ` stdout fallback lines start. */
export const STDOUT_PREFIX = '@sweepd ';

/**
 * The `command` runner: runs the user's own training script for each trial and reads its epoch
 * reports (docs/reporting-protocol.md). One instance runs any number of trials at once.
 */
export class CommandRunner implements Runner {
  constructor(private readonly options: CommandRunnerOptions) {}

  get trialsDir(): string {
    return this.options.trialsDir ?? path.join(path.dirname(path.resolve(this.options.cacheDir)), 'trials');
  }

  /**
   * Ends the trial processes a worker that died (kill -9) left running in this runner's trials
   * directory, before this one takes a trial (orphan-groups.ts). Returns their trial directories.
   */
  endOrphans(log: (message: string) => void): Promise<string[]> {
    return endOrphanGroups(this.trialsDir, ORPHAN_TERM_GRACE_MS, log);
  }

  run(job: TrialJob, ctx: RunnerContext): Promise<TrialOutcome> {
    return this.runOn(job, ctx, {});
  }

  async runOn(job: TrialJob, ctx: RunnerContext, placement: Placement): Promise<TrialOutcome> {
    const parsed = parseCommandOptions(job.trainer.options);
    if ('problems' in parsed) {
      return { state: 'failed', reason: `command runner: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` };
    }
    const options = parsed.options;
    if (ctx.signal.aborted) return { state: 'stopped', reason: reasonOf(ctx.signal) };
    // Only a GPU this runner gave the trial is said to have trained it: a CUDA_VISIBLE_DEVICES it
    // inherited names GPUs that may not exist (a host without one) or were hidden on purpose (-1).
    const gpu = placement.gpu;
    // A name of dots alone ('..', from a forged job) would put the directory, and its removal, outside trialsDir.
    const ownDir = path.join(
      this.trialsDir,
      job.trialId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+$/, (dots) => '_'.repeat(dots.length)),
    );
    // An earlier delivery still running there keeps it (its worker lives, only went unheard): this one
    // takes the next free directory, or both scripts would append to one metrics file, one curve.
    let trialDir = ownDir;
    for (let n = 2; groupRunsUnderLiveWorker(trialDir); n++) trialDir = `${ownDir}.${n}`;
    const files = {
      params: path.join(trialDir, 'params.json'),
      metrics: path.join(trialDir, 'metrics.jsonl'),
      control: path.join(trialDir, 'control.json'),
    };
    const host = hostname();
    const notes: Record<string, unknown> = { trial_dir: trialDir, host, ...(gpu !== undefined && { gpu }) };
    const fail = (reason: string): TrialOutcome => ({ state: 'failed', reason, notes });

    let argv: string[];
    try {
      argv = buildArgv(options.command, job.params, options.args);
    } catch (err) {
      return fail(`command runner: ${(err as Error).message}`);
    }
    const cwd = options.cwd === undefined ? trialDir : path.resolve(options.cwd);
    if (options.cwd !== undefined && !(existsSync(cwd) && statSync(cwd).isDirectory()))
      return fail(`command runner: trainer.options.cwd: ${cwd} is not a directory on this worker's host (${host})`);

    // A redelivered trial starts over in a fresh directory: nothing of an earlier attempt is read as
    // its own, and an earlier attempt's processes whose worker died are ended first, or they would
    // go on writing into it.
    await endOrphanGroup(trialDir, ORPHAN_TERM_GRACE_MS, ctx.log);
    await rm(trialDir, { recursive: true, force: true });
    await mkdir(trialDir, { recursive: true });
    await mkdir(this.options.cacheDir, { recursive: true });
    await writeFile(files.params, `${JSON.stringify(job.params, null, 2)}\n`);

    // A script that trains past the budget is stopped there: its trial is compared over max_epochs.
    let budgetTrained = false;
    let stopForBudget = () => {};
    // The first epoch also says where the trial runs: the end's notes are sent only with the end, and a
    // trial whose worker died before it (then stopped, or trained again elsewhere) would leave its logs unfound.
    // Every report of that epoch says it: a repeated epoch replaces the earlier report, notes and all.
    let placeEpoch: number | undefined;
    const forward = (epoch: EpochRecord): Promise<void> => {
      placeEpoch ??= epoch.epoch;
      if (epoch.epoch !== placeEpoch) return ctx.report(epoch);
      return ctx.report({ ...epoch, notes: { ...epoch.notes, trial_dir: trialDir, host } });
    };
    const sink = new ReportSink(forward, ctx.log, job.maxEpochs, () => {
      budgetTrained = true;
      stopForBudget();
    });
    let lineNo = 0;
    const tail = new FileTail(files.metrics, (line) => sink.line(line, `metrics file line ${++lineNo}`), { log: ctx.log });
    const tensorboard = options.tensorboard ? await startTensorBoard(options.tensorboard, trialDir, sink, ctx.log) : undefined;

    let proc: TrialProcess;
    try {
      proc = await TrialProcess.start({
        argv,
        cwd,
        env: trialEnv(job, options, {
          trialDir,
          gpu: gpu ?? (this.options.hideGpus ? '' : undefined),
          cacheDir: path.resolve(this.options.cacheDir),
          ...files,
        }),
        trialDir,
        controlFile: files.control,
        stderrTailLines: options.stderr_tail_lines,
        termGraceMs: options.term_grace_s * 1000,
        onStdoutLine: (line) => {
          if (line.startsWith(STDOUT_PREFIX)) sink.line(line.slice(STDOUT_PREFIX.length), 'stdout');
          // A report printed without its prefix is not read: counted, so a failure can say why.
          else if (/^\s*\{.*"sweepd"\s*:/.test(line)) sink.unprefixed++;
        },
      });
    } catch (err) {
      await tensorboard?.stop();
      return fail((err as Error).message);
    }
    notes.pid = proc.pid;
    ctx.log(`started ${JSON.stringify(argv)} as process group ${proc.pid}${gpu !== undefined ? ` on GPU ${gpu}` : ''}`);
    tail.start();

    let stopped: string | undefined;
    let hung: EndFacts['hung'];
    const startedAt = Date.now();
    const onAbort = () => {
      stopped ??= reasonOf(ctx.signal);
      void proc.stop(stopped, options.stop_grace_s * 1000).catch(() => {});
    };
    stopForBudget = () => void proc.stop(`trained budget.max_epochs ${job.maxEpochs}`, options.stop_grace_s * 1000).catch(() => {});
    if (budgetTrained) stopForBudget();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // A stop that came while the process was starting (the directory, the spawn) has no event left to fire.
    if (ctx.signal.aborted) onAbort();
    const watchdog = setInterval(
      () => {
        const first = sink.lastReportAt === undefined;
        const seconds = first ? (options.start_timeout_s ?? options.report_timeout_s) : options.report_timeout_s;
        if (stopped !== undefined || hung !== undefined) return;
        if (Date.now() - (sink.lastReportAt ?? startedAt) < seconds * 1000) return;
        hung = {
          seconds,
          option: first && options.start_timeout_s !== undefined ? 'start_timeout_s' : 'report_timeout_s',
          // What had arrived when it was called hung: reports read later do not make it a trial that finished first.
          epochsReported: sink.epochsReported,
          trained: sink.lastEpoch >= job.maxEpochs && sink.metricsSeen.has(job.objective.metric),
        };
        ctx.log(`no report for ${seconds} s: stopping the trial as hung`);
        // No grace to read the control file: a script that has not reported for this long is not reading it either.
        void proc.stop(`no report for ${seconds} s`, 0).catch(() => {});
      },
      Math.min(1000, options.report_timeout_s * 250),
    );

    let end: ProcessEnd | undefined;
    try {
      end = await proc.ended;
    } finally {
      clearInterval(watchdog);
      ctx.signal.removeEventListener('abort', onAbort);
      const rest = await tail.finish();
      if (rest !== undefined) sink.line(rest, 'metrics file, last line (no newline)');
      // A script stopped (pruned, hung, out of budget: asked through the control file, exiting 0 or
      // not) or failed mid-epoch leaves a fragment of an epoch in its event files.
      const cutShort = stopped !== undefined || hung !== undefined || budgetTrained || proc.signalsSent.length > 0 || end?.code !== 0;
      await tensorboard?.stop({ cutShort });
    }
    await sink.drain();
    if (proc.signalsSent.length > 0) notes.signals_sent = proc.signalsSent;
    // The trial directory's logs are not whole: say so where the trial is read, not nowhere.
    if (Object.keys(proc.logErrors).length > 0) {
      notes.log_write_errors = proc.logErrors;
      ctx.log(
        `its logs are cut short (${Object.entries(proc.logErrors)
          .map(([f, e]) => `${f}: ${e}`)
          .join('; ')})`,
      );
    }
    return decideOutcome({
      end,
      stopped,
      signalled: proc.forced,
      hung,
      sink,
      stderrTail: proc.stderrTail.get(),
      objective: job.objective.metric,
      objectiveTags: Object.entries(options.tensorboard?.tags ?? {})
        .filter(([, metric]) => metric === job.objective.metric)
        .map(([tag]) => tag),
      maxEpochs: job.maxEpochs,
      notes,
    });
  }
}

function trialEnv(
  job: TrialJob,
  options: CommandOptions,
  at: { trialDir: string; gpu: string | undefined; cacheDir: string; params: string; metrics: string; control: string },
): NodeJS.ProcessEnv {
  // The worker's own SWEEPD_* settings (a token, a database URL) are not the script's business.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWEEPD_')));
  return {
    ...inherited,
    ...options.env,
    SWEEPD_TRIAL_ID: job.trialId,
    SWEEPD_TRIAL_DIR: at.trialDir,
    SWEEPD_PARAMS_FILE: at.params,
    SWEEPD_METRICS_FILE: at.metrics,
    SWEEPD_CONTROL_FILE: at.control,
    SWEEPD_CACHE_DIR: at.cacheDir,
    SWEEPD_MAX_EPOCHS: String(job.maxEpochs),
    SWEEPD_OBJECTIVE: job.objective.metric,
    PYTHONUNBUFFERED: '1',
    ...(at.gpu !== undefined && { CUDA_VISIBLE_DEVICES: at.gpu }),
  };
}

function reasonOf(signal: AbortSignal): string {
  const r = signal.reason as unknown;
  return r instanceof Error ? r.message : String(r ?? 'stopped');
}
