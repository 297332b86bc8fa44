import { objectiveNeverReported, type TrialOutcome } from '@sweepd/core';
import type { ReportSink } from './report-sink.ts';
import type { ProcessEnd } from './trial-process.ts';

export interface EndFacts {
  end: ProcessEnd;
  /** The stop's reason when sweepd stopped the trial (a rule, a user, a shutdown). */
  stopped: string | undefined;
  /** Whether a stop had to signal the script while it still ran (past its grace, or hung): its exit is then sweepd's doing. */
  signalled?: boolean;
  /** Called hung: after how long, by which option, and what had arrived by then. */
  hung: { seconds: number; option: string; epochsReported: number; trained: boolean } | undefined;
  sink: Pick<
    ReportSink,
    | 'badLines'
    | 'noAucClasses'
    | 'badExamples'
    | 'readProblems'
    | 'readProblemExamples'
    | 'metricsSeen'
    | 'epochsReported'
    | 'lastEpoch'
    | 'beyondBudget'
    | 'unprefixed'
    | 'unmappedScalars'
  >;
  stderrTail: readonly string[];
  objective: string;
  /** The TensorBoard tags `tensorboard.tags` maps to the objective, when it reads event files. */
  objectiveTags?: readonly string[];
  /** The study's budget.max_epochs: a script that reported it trained in full. */
  maxEpochs: number;
  /** Notes gathered so far (GPU, trial directory); completed here. */
  notes: Record<string, unknown>;
}

/** Python's header for an exception raised during teardown: what follows it up to its exception line is noise. */
const IGNORED = /^(Exception ignored in|Error in atexit\._run_exitfuncs)/;
const TRACEBACK = 'Traceback (most recent call last):';
/** What a flag parser prints after the error it names: where to find help, not why it failed (absl, Click, git-style). */
const HELP_HINT = /^(Pass --helpshort or --helpfull to see help on flags\.?|Try '.*--help' for help\.?|See '.*--help'.*)$/;

/**
 * The line of the stderr tail that says why the script failed: its last line that is not
 * indented (a traceback's exception line, Node's `Error: …` above its indented stack, or a plain
 * message such as sys.exit's), leaving out what Python prints for an exception it ignored during
 * teardown ("Exception ignored in atexit callback", its traceback and exception line), which
 * would otherwise hide the error printed before it, and the pointer to --help that flag parsers
 * print after the error (absl's "Pass --helpshort or --helpfull to see help on flags.").
 */
export function errorLine(tail: readonly string[]): string | undefined {
  const lines = tail.filter((l) => l.trim() !== '');
  const kept: string[] = [];
  // In an ignored report: 'header' until its traceback starts, then 'traceback' until the exception line ends it.
  let ignoring: 'no' | 'header' | 'traceback' = 'no';
  for (const line of lines) {
    const top = !/^\s/.test(line);
    if (top && IGNORED.test(line)) {
      ignoring = 'header';
      continue;
    }
    if (ignoring === 'header') {
      if (line.startsWith(TRACEBACK)) ignoring = 'traceback';
      else if (top) ignoring = 'no';
      else continue;
    }
    if (ignoring === 'traceback') {
      if (top && !line.startsWith(TRACEBACK)) ignoring = 'no';
      continue;
    }
    if (top && !line.startsWith(TRACEBACK) && !HELP_HINT.test(line.trim())) kept.push(line.trim());
  }
  return kept.at(-1) ?? lines.at(-1)?.trim();
}

/** How a trial's script ended, as a trial outcome. The stderr tail is kept with every failure. */
export function decideOutcome(f: EndFacts): TrialOutcome {
  const notes: Record<string, unknown> = { ...f.notes, exit_code: f.end.code, epochs_reported: f.sink.epochsReported };
  if (f.end.signal) notes.exit_signal = f.end.signal;
  if (f.sink.badLines > 0) {
    notes.bad_report_lines = f.sink.badLines;
    notes.bad_report_examples = f.sink.badExamples;
  }
  if (f.sink.readProblems > 0) {
    notes.report_problems = f.sink.readProblems;
    notes.report_problem_examples = f.sink.readProblemExamples;
  }
  // A script that reported its last epoch and the objective, then crashed or hung on the way out
  // (CUDA or DataLoader teardown), trained in full: completed, with the failure as its reason, so
  // its results rank. One that failed before its last epoch failed.
  const trained = f.hung ? f.hung.trained : f.sink.lastEpoch >= f.maxEpochs && f.sink.metricsSeen.has(f.objective);
  // Lines refused may be why nothing counted as a report: say so wherever it matters.
  const refused = f.sink.badLines > 0 ? `; ${f.sink.badLines} report line(s) refused, the first: ${f.sink.badExamples[0]}` : '';
  const failed = (reason: string): TrialOutcome =>
    trained
      ? {
          state: 'completed',
          reason: `finished its ${f.maxEpochs} epoch${f.maxEpochs === 1 ? '' : 's'}, then ${reason}`,
          notes: { ...notes, stderr_tail: f.stderrTail },
        }
      : { state: 'failed', reason, notes: { ...notes, stderr_tail: f.stderrTail } };

  if (f.hung) {
    const late = f.sink.epochsReported - f.hung.epochsReported;
    // Reports that arrived only once it was stopped were written but not flushed as they went.
    const unflushed = late > 0 ? `; ${late} epoch report(s) arrived only after that: flush the metrics file after each line` : '';
    return failed(`hung: no report for ${f.hung.seconds} s (${f.hung.option})${refused}${unflushed}`);
  }
  const lastErr = errorLine(f.stderrTail);
  const detail = lastErr ? `: ${lastErr}` : '';
  // Asked to stop, it exited with an error or a signal sweepd did not send: it crashed on its own
  // (a script that crashes at epoch 2 every time, whether or not a rule asked it to stop there).
  // Failed, so that the failure guard sees it and its values do not rank, with the stop it was asked for.
  const crashed = !f.signalled && (f.end.signal !== null || f.end.code !== 0);
  if (f.stopped !== undefined && crashed)
    return failed(
      `${f.end.signal ? `killed by ${f.end.signal}` : `exit code ${f.end.code}`}${detail} (after it was asked to stop: ${f.stopped})`,
    );
  // Asked to stop, but it had reported every epoch of its budget first (a script that checks the
  // control file late, or not at all): it trained in full, and the engine says the stop came late.
  if (f.stopped !== undefined) return trained ? { state: 'completed', notes } : { state: 'stopped', reason: f.stopped, notes };
  if (f.sink.beyondBudget > 0 && trained) {
    // It trained its budget and went on: stopped at the budget, whatever its exit said.
    notes.epochs_beyond_budget = f.sink.beyondBudget;
    return {
      state: 'completed',
      reason: `reported epochs beyond budget.max_epochs ${f.maxEpochs} (up to ${f.sink.beyondBudget}): not recorded, and the trial was stopped there`,
      notes,
    };
  }
  if (f.end.signal) return failed(`killed by ${f.end.signal}${detail}`);
  if (f.end.code !== 0) return failed(`exit code ${f.end.code}${detail}`);
  if (!f.sink.metricsSeen.has(f.objective)) {
    // Refused lines or a reader's problems (a damaged event file) may be where the objective was: say so.
    const unread =
      f.sink.readProblems > 0 ? `; ${f.sink.readProblems} problem(s) reading the reports, the first: ${f.sink.readProblemExamples[0]}` : '';
    const unprefixed =
      f.sink.unprefixed > 0
        ? `; ${f.sink.unprefixed} stdout line(s) looked like reports but lack the '@sweepd ' prefix, so they were not read`
        : '';
    // A tag mapped under another name than the event files have (eval/AUC for TF-slim's eval/eval/AUC): name what
    // is there, those ending as the objective's tag does first (a TF-slim run holds many train scalars before it).
    const tags = likeTagsFirst(f.sink.unmappedScalars, f.objectiveTags ?? []);
    const unmapped =
      tags.length > 0
        ? `; the event files also hold scalars that tensorboard.tags does not map: ${tags.slice(0, 5).join(', ')}${tags.length > 5 ? ` and ${tags.length - 5} more` : ''}`
        : '';
    return failed(
      objectiveNeverReported(f.objective, f.sink.metricsSeen, f.sink.epochsReported, f.sink.noAucClasses) +
        refused +
        unread +
        unprefixed +
        unmapped,
    );
  }
  // Completed, but some of what it wrote was refused (an epoch 0, a line without "sweepd": 1): say so.
  return refused ? { state: 'completed', reason: refused.slice(2), notes } : { state: 'completed', notes };
}

/** `tags` with those whose last part (after the last '/') is one of `like`'s first, in their order otherwise. */
function likeTagsFirst(tags: readonly string[], like: readonly string[]): string[] {
  const last = (tag: string) => tag.slice(tag.lastIndexOf('/') + 1).toLowerCase();
  const wanted = new Set(like.map(last));
  return [...tags.filter((t) => wanted.has(last(t))), ...tags.filter((t) => !wanted.has(last(t)))];
}
