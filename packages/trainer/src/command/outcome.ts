import type { TrialOutcome } from '@sweepd/core';
import type { ReportSink } from './report-sink.ts';
import type { ProcessEnd } from './trial-process.ts';

export interface EndFacts {
  end: ProcessEnd;
  /** The stop's reason when sweepd stopped the trial (a rule, a user, a shutdown). */
  stopped: string | undefined;
  hung: { seconds: number; option: string } | undefined;
  sink: Pick<ReportSink, 'badLines' | 'badExamples' | 'metricsSeen' | 'epochsReported'>;
  stderrTail: readonly string[];
  objective: string;
  /** Notes gathered so far (GPU, trial directory); completed here. */
  notes: Record<string, unknown>;
}

/** An exception's last line: `ValueError: …`, `torch.OutOfMemoryError: …`, `KeyboardInterrupt`, `Error: …` (Node). */
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*)?(Error|Exception|Interrupt|Exit)\b(:|$)/;

/**
 * The line of the stderr tail that says why the script failed: the last exception line (Python's
 * and Node's last traceback line), so teardown noise printed after it ("Exception ignored in
 * atexit callback", a DataLoader worker's message) does not hide it; else the last non-empty line.
 */
export function errorLine(tail: readonly string[]): string | undefined {
  const lines = tail.map((l) => l.trim()).filter((l) => l !== '');
  return lines.findLast((l) => EXCEPTION_LINE.test(l)) ?? lines.at(-1);
}

/** How a trial's script ended, as a trial outcome. The stderr tail is kept with every failure. */
export function decideOutcome(f: EndFacts): TrialOutcome {
  const notes: Record<string, unknown> = { ...f.notes, exit_code: f.end.code, epochs_reported: f.sink.epochsReported };
  if (f.end.signal) notes.exit_signal = f.end.signal;
  if (f.sink.badLines > 0) {
    notes.bad_report_lines = f.sink.badLines;
    notes.bad_report_examples = f.sink.badExamples;
  }
  const failed = (reason: string): TrialOutcome => ({ state: 'failed', reason, notes: { ...notes, stderr_tail: f.stderrTail } });

  if (f.hung) return failed(`hung: no report for ${f.hung.seconds} s (${f.hung.option})`);
  if (f.stopped !== undefined) return { state: 'stopped', reason: f.stopped, notes };
  const lastErr = errorLine(f.stderrTail);
  const detail = lastErr ? `: ${lastErr}` : '';
  if (f.end.signal) return failed(`killed by ${f.end.signal}${detail}`);
  if (f.end.code !== 0) return failed(`exit code ${f.end.code}${detail}`);
  if (!f.sink.metricsSeen.has(f.objective)) {
    const seen = [...f.sink.metricsSeen].sort();
    return failed(
      `objective metric '${f.objective}' was never reported; reported: ${seen.length ? seen.join(', ') : f.sink.epochsReported ? 'no metrics' : 'no epoch at all'}`,
    );
  }
  return { state: 'completed', notes };
}
