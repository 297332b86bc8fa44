import type { LeaderboardRow } from '../views/leaderboard.ts';
import { fetchAnswerText } from './answer-text.ts';
import { type ApiClient, ApiError } from './client.ts';
import { parseSse } from './sse.ts';
import { InPlaceScreen } from './screen.ts';
import { formatMetric, progressBar, renderLeaderboard, trialStateText } from './table.ts';
import { terminalSafe } from './terminal-safe.ts';

/** What the live leaderboard stream sends in each `leaderboard` event. */
export interface LiveBoard {
  id: number;
  /** The last table: the study has ended and none of its trials is still in flight. */
  final: boolean;
  study: {
    id: string;
    name: string;
    state: string;
    reason: string | null;
    createdAt: string;
    /** When it ended (null or absent while it runs). */
    finishedAt?: string | null;
    objective: { metric: string; direction: string };
    budget: { max_trials: number; max_epochs: number };
    counts: Record<string, number>;
  };
  /** Every ranked trial; `rows` may be only the top of them (the stream's `rows=N`). */
  total: number;
  /** The parameter columns in the daemon's one order. */
  columns: string[];
  progress: { finished: number; epochsDone: number; planned: number };
  rows: LeaderboardRow[];
  changes: { type: string; trial?: number }[];
}

/** Lines of the screen that are not table rows: three of header, the table's own, "… more", the last line. */
const SCREEN_CHROME = 7;

const FINISHED = new Set(['completed', 'stopped', 'failed']);
const RECONNECTS = 15;

/**
 * Follows a study over the live stream until it ends: on a terminal, redraws the leaderboard in
 * place under a progress line with an ETA; otherwise prints one plain line whenever a trial
 * changes. Reconnects with Last-Event-ID when the stream drops. Returns 0 when the study
 * completed, 1 when it stopped or failed; rejects with the reason once `signal` aborts, having
 * written nothing after it.
 */
export async function watchStudy(
  api: ApiClient,
  id: string,
  opts: { out?: NodeJS.WriteStream; signal?: AbortSignal } = {},
): Promise<number> {
  const { signal } = opts;
  const out = opts.out ?? process.stdout;
  const tty = out.isTTY === true;
  // A pseudo-terminal that was never sized reports 0 × 0.
  const size = () => ({ columns: out.columns || 100, rows: out.rows || 40 });
  const screen = new InPlaceScreen(size);
  const seen = new Map<number, string>();
  let toldStopping = false;
  let lastEventId: string | undefined;
  let failures = 0;
  for (;;) {
    // A terminal shows a screenful, so it asks for that many rows; plain mode reports every trial.
    const rows = tty ? `?rows=${Math.max(3, size().rows - SCREEN_CHROME)}` : '';
    let body: ReadableStream<Uint8Array>;
    try {
      body = await api.stream(`/v1/studies/${encodeURIComponent(id)}/leaderboard/stream${rows}`, { lastEventId, signal });
    } catch (err) {
      signal?.throwIfAborted();
      // Unreachable on the first try is exit 4; a dropped daemon is retried for about a minute (a restart).
      if (!(err instanceof ApiError) || err.status !== 0 || lastEventId === undefined || ++failures > RECONNECTS) throw err;
      await pause(Math.min(5_000, 500 * failures), signal);
      continue;
    }
    try {
      // The daemon ends the stream right after a finished study's final table; that table ends the watch.
      for await (const event of parseSse(body)) {
        signal?.throwIfAborted(); // an event parsed before the abort is not drawn after it
        if (event.event !== 'leaderboard') continue;
        lastEventId = event.id;
        failures = 0;
        const board = terminalSafe(JSON.parse(event.data) as LiveBoard);
        if (tty) out.write(screen.frame(drawScreen(board, size().rows)));
        else {
          printChanges(board, seen, out);
          const state = stateText(board);
          if (state !== board.study.state && !toldStopping) {
            toldStopping = true; // once: the trials' own lines follow as they end
            out.write(`study ${id} ${state}\n`);
          }
        }
        if (board.final) {
          const { state, reason } = board.study;
          const answer = await fetchAnswerText(api, id);
          signal?.throwIfAborted();
          out.write(answer); // the answer first; the study's end stays the last line
          out.write(`study ${id} ${state}${reason ? `: ${reason}` : ''}\n`);
          return state === 'completed' ? 0 : 1;
        }
      }
    } catch (err) {
      signal?.throwIfAborted();
      if (++failures > RECONNECTS) throw new ApiError(0, `lost the event stream from ${api.baseUrl}: ${(err as Error).message}`, undefined);
    }
    await pause(250, signal);
  }
}

/** Waits `ms`, or until `signal` aborts; then throws its reason if it did. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
  signal?.throwIfAborted();
}

/** The whole screen for a TTY: progress and ETA on top, the table below (at most `rows` lines in all). */
export function drawScreen(board: LiveBoard, rows: number, now = Date.now()): string {
  const { study } = board;
  const { finished, epochsDone, planned: total } = board.progress;
  const fraction = Math.min(1, epochsDone / Math.max(1, total * study.budget.max_epochs));
  // An ended study ran until it ended: watched later, the time since it began is not its run time.
  const elapsed = ((study.finishedAt ? Date.parse(study.finishedAt) : now) - Date.parse(study.createdAt)) / 1000;
  // No ETA while nothing runs (every trial queued: no worker serves the pool now): none is known.
  const running = (study.counts.running ?? 0) > 0;
  const eta =
    running && fraction > 0.02 && fraction < 1 && !FINISHED.has(study.state)
      ? ` · ETA ${formatDuration((elapsed / fraction) * (1 - fraction))}`
      : '';
  // Rounded down, and "100 %" only once every trial has ended: a trial that reported its last
  // epoch may still be running (evaluating, writing its end).
  const percent = finished >= total ? Math.floor(fraction * 100) : Math.min(99, Math.floor(fraction * 100));
  // Only a ranked row is the best: unranked rows (failed trials among them) may carry values too.
  const best = board.rows[0]?.rank === null ? undefined : board.rows[0]?.value;
  const head =
    `${study.name} (${study.id}) · ${stateText(board)} · ${study.objective.direction} ${study.objective.metric}` +
    `${best === null || best === undefined ? '' : ` · best ${formatMetric(best)}`}\n` +
    `${progressBar(epochsDone, total * study.budget.max_epochs, 30)} ${percent}% · ${finished}/${total} trials · ${formatDuration(elapsed)} elapsed${eta}\n\n`;
  const table = renderLeaderboard(board.rows, {
    bars: true,
    limit: Math.max(3, rows - SCREEN_CHROME),
    columns: board.columns,
    total: board.total,
  });
  return `${head}${table}\n`;
}

/** The study's state; an ended study whose trials are still winding down says so. */
function stateText(board: LiveBoard): string {
  const { state, counts } = board.study;
  const inFlight = (counts.queued ?? 0) + (counts.running ?? 0);
  if (board.final || state === 'running' || inFlight === 0) return state;
  return `${state}, ${inFlight} trial${inFlight === 1 ? '' : 's'} still stopping`;
}

function printChanges(board: LiveBoard, seen: Map<number, string>, out: NodeJS.WritableStream): void {
  for (const r of board.rows) {
    const key = `${r.state}|${r.epochs}|${r.value}|${r.reason}`;
    if (seen.get(r.number) === key) continue;
    seen.set(r.number, key);
    const value = r.value === null ? '-' : formatMetric(r.value);
    out.write(
      // The row's value is the trial's best so far, not this epoch's: the line says so.
      `trial ${r.number}${r.baseline ? ' (baseline)' : ''} ${trialStateText(r)} epoch ${r.epochs}/${r.maxEpochs} best ${board.study.objective.metric}=${value}${r.reason ? ` (${r.reason})` : ''}\n`,
    );
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
