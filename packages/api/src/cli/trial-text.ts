import type { Diagnosis } from '@sweepd/search';
import { formatMetric } from './table.ts';

/** What `GET /v1/studies/:id/trials/:n` answers, as far as `sweepd trial` prints it. */
export interface TrialForText {
  study: string;
  number: number;
  state: string;
  value: number | null;
  reason: string | null;
  params: Record<string, string | number | boolean>;
  notes: Record<string, unknown>;
  epochs: ReadonlyArray<{ epoch: number; metrics: Record<string, number | null> }>;
  /** Where the command runner left its logs (the daemon reads its notes for it). */
  logs?: { dir: string; host: string | null } | null;
  diagnosis: Diagnosis | null;
  /** Which delivery of its job the epochs come from (1 = the first); null before it started. */
  attempt?: number | null;
}

/** At most this many epochs of the objective on one line; longer curves show their start and end. */
const COURSE_EPOCHS = 12;

/** Lines of a failed trial's stderr that `sweepd trial` prints (the log file has them all). */
const STDERR_LINES = 12;

/**
 * One trial as `sweepd trial` prints it: its state and best value, parameters, why it ended (or,
 * queued on a pool no worker serves, why it waits: `waiting`), the
 * objective epoch by epoch, its diagnosis (evidence and advice) and, for the command runner,
 * where its logs are.
 */
export function trialText(trial: TrialForText, metric: string, waiting?: string): string {
  const best = trial.value === null ? '' : ` · best ${metric} ${formatMetric(trial.value)}`;
  const lines = [`trial ${trial.number} of ${trial.study} · ${trial.state}${best}`];
  // Exact, as export gives them: a trial looked at alone is one to copy from.
  lines.push(
    `  params: ${Object.entries(trial.params)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')}`,
  );
  if (trial.reason) lines.push(`  reason: ${trial.reason}`);
  // A queued trial of a study whose pool has no worker: why it does not start (the study's `waiting`).
  if (trial.state === 'queued' && waiting) lines.push(`  waiting: ${waiting}`);
  if (typeof trial.attempt === 'number' && trial.attempt > 1)
    lines.push(
      `  delivery: ${trial.attempt} (its job was delivered again, after a worker died or handed it back; each delivery trains from scratch, and the epochs below are this one's)`,
    );
  // A failed trial's last words: the end of its stderr, as the dashboard shows it (last lines first to go).
  const tail = Array.isArray(trial.notes.stderr_tail)
    ? (trial.notes.stderr_tail as unknown[]).map(String)
    : typeof trial.notes.stderr_tail === 'string'
      ? trial.notes.stderr_tail.split('\n')
      : [];
  if (trial.state === 'failed' && tail.length > 0) {
    const shown = tail.slice(-STDERR_LINES);
    lines.push(`  stderr (last ${shown.length} line${shown.length === 1 ? '' : 's'}):`);
    for (const line of shown) lines.push(`    | ${line}`);
  }
  const course = [...trial.epochs]
    .sort((a, b) => a.epoch - b.epoch)
    .map((e) => {
      const v = e.metrics[metric];
      // A NaN or infinite value reaches JSON as null, which cannot say which it was (a loss that
      // blew up to Infinity read "NaN"); a missing one is not there at all.
      return v === undefined ? '-' : v === null ? 'non-finite' : formatMetric(v);
    });
  if (course.length > 0) {
    const shown = course.length <= COURSE_EPOCHS ? course : [...course.slice(0, 3), '…', ...course.slice(-(COURSE_EPOCHS - 4))];
    lines.push(`  ${metric} by epoch (${course.length}): ${shown.join(' → ')}`);
  }
  const d = trial.diagnosis;
  if (d) {
    lines.push(`  diagnosis: ${d.summary}`);
    for (const e of d.evidence) lines.push(`    - ${e}`);
    if (d.advice) lines.push(`    advice: ${d.advice}`);
  }
  const logs = trial.logs;
  if (logs) lines.push(`  logs: ${logs.dir} (stdout.log, stderr.log, ${logs.host ? `on host ${logs.host}` : 'on the worker that ran it'})`);
  return `${lines.join('\n')}\n`;
}
