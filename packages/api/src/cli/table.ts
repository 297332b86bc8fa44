import type { LeaderboardRow } from '../views/leaderboard.ts';
import { plannedTrials } from '../views/study.ts';

/** Formats a number for a narrow column: 4 decimals, exponent form for the very small and large (learning rates). */
/** A parameter's value: 3 significant digits (0.00464, 0.01, 0.0905), as the answer prints them; exponent form for the very small and large. */
export function formatValue(v: unknown): string {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** An objective's value: always 4 decimals (an AUC of exactly 1 is 1.0000), exponent form for the very small and large. */
export function formatMetric(v: number): string {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return v.toFixed(4);
}

export function progressBar(done: number, total: number, width = 10): string {
  const filled = total > 0 ? Math.min(width, Math.max(0, Math.round((done / total) * width))) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/**
 * A fixed-width text table: a header, columns two spaces apart, each as wide as its widest cell;
 * columns named in `right` (numbers) are right-aligned. Trailing blanks are trimmed.
 */
export function renderTable(header: readonly string[], body: readonly string[][], right: readonly string[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    header
      .map((h, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return right.includes(h) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}

/**
 * The leaderboard as a fixed-width text table. `columns` is the parameter order the daemon sends
 * (the spec's space as written); without it, the order the rows' parameters first appear in.
 * `total` is how many rows the study has when `rows` is only the top of them.
 */
export function renderLeaderboard(
  rows: readonly LeaderboardRow[],
  /** `reasonWidth`: where a reason is cut (60; Infinity for output that is not a terminal). */
  opts: { bars?: boolean; limit?: number; columns?: readonly string[]; total?: number; reasonWidth?: number } = {},
): string {
  const shown = rows.slice(0, opts.limit ?? rows.length);
  const paramNames = opts.columns ?? [...new Set(shown.flatMap((r) => Object.keys(r.params)))];
  const header = ['rank', 'trial', ...paramNames, 'best', 'epoch', 'state', 'reason'];
  const body = shown.map((r) => [
    r.rank === null ? '-' : String(r.rank),
    r.baseline ? `${r.number} (baseline)` : String(r.number),
    ...paramNames.map((p) => (r.params[p] === undefined ? '' : formatValue(r.params[p]))),
    r.value === null ? '-' : formatMetric(r.value),
    opts.bars ? `${progressBar(r.epochs, r.maxEpochs)} ${r.epochs}/${r.maxEpochs}` : `${r.epochs}/${r.maxEpochs}`,
    trialStateText(r),
    truncate(r.reason ?? '', opts.reasonWidth ?? 60),
  ]);
  const hidden = (opts.total ?? rows.length) - shown.length;
  return renderTable(header, body, ['rank', 'trial', 'best']) + (hidden > 0 ? `\n… ${hidden} more` : '');
}

/** A trial's state; one still in flight with a reason is being stopped (the reason is the stop's) and says so. */
export function trialStateText(r: Pick<LeaderboardRow, 'state' | 'reason'>): string {
  return (r.state === 'running' || r.state === 'queued') && r.reason ? 'stopping' : r.state;
}

/** What `GET /v1/studies` lists per study (the fields `ls` shows). */
export interface StudyListItem {
  id: string;
  name: string;
  state: string;
  reason?: string | null;
  counts: Record<string, number>;
  best: number | null;
  budget: { max_trials: number };
}

/** `sweepd ls`: one row per study, with a header; a failed or stopped study shows why. */
/** The study table; `page`: where it lies in the whole list, said below it when it is not all of it. */
export function renderStudies(studies: readonly StudyListItem[], reasonWidth = 80, page?: { offset: number; total: number }): string {
  if (studies.length === 0)
    return page && page.total > 0
      ? `no studies from number ${page.offset + 1} on: there are ${page.total}`
      : 'no studies yet: sweepd submit FILE';
  const body = studies.map((s) => {
    const done = (s.counts.completed ?? 0) + (s.counts.stopped ?? 0) + (s.counts.failed ?? 0);
    const trials = Object.values(s.counts).reduce((n, k) => n + k, 0);
    const failed = s.counts.failed ? ` (${s.counts.failed} failed)` : '';
    // An ended study's trials in flight are still stopping: its figures may still change.
    const inFlight = (s.counts.queued ?? 0) + (s.counts.running ?? 0);
    const state = s.state !== 'running' && inFlight > 0 ? `${s.state} (${inFlight} stopping)` : s.state;
    return [
      s.id,
      s.name,
      state,
      `${done}/${plannedTrials(s.state, s.budget.max_trials, trials)}${failed}`,
      s.best === null ? '-' : formatMetric(s.best),
      truncate(s.reason ?? '', reasonWidth),
    ];
  });
  const table = renderTable(['id', 'name', 'state', 'trials', 'best', 'reason'], body, ['trials', 'best']);
  if (!page || (page.offset === 0 && studies.length >= page.total)) return table;
  return `${table}\nstudies ${page.offset + 1}–${page.offset + studies.length} of ${page.total} (oldest first; --limit N --offset K)`;
}

export function truncate(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
