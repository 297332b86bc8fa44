import type { LeaderboardRow } from '../views/leaderboard.ts';
import type { ApiClient } from './client.ts';
import { renderLeaderboard } from './table.ts';

interface Board {
  study: string;
  state: string;
  objective: { metric: string; direction: string };
  rows: LeaderboardRow[];
}

const FINISHED = new Set(['completed', 'stopped', 'failed']);

/**
 * Follows a study until it ends: on a terminal, redraws the leaderboard in place with progress and
 * ETA; otherwise prints a line whenever a trial changes. Returns 0 when the study completed.
 */
export async function watchStudy(api: ApiClient, id: string, opts: { intervalMs?: number; out?: NodeJS.WriteStream } = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const tty = out.isTTY === true;
  const started = Date.now();
  const seen = new Map<number, string>();
  for (;;) {
    const board = await api.json<Board>('GET', `/v1/studies/${encodeURIComponent(id)}/leaderboard`);
    const study = await api.json<{ budget: { max_trials: number; max_epochs: number }; name: string; reason: string | null }>('GET', `/v1/studies/${encodeURIComponent(id)}`);
    const finished = board.rows.filter((r) => FINISHED.has(r.state)).length;
    const total = study.budget.max_trials;
    if (tty) {
      const epochsDone = board.rows.reduce((n, r) => n + (FINISHED.has(r.state) ? r.maxEpochs : r.epochs), 0);
      const fraction = epochsDone / (total * study.budget.max_epochs);
      const elapsed = (Date.now() - started) / 1000;
      const eta = fraction > 0.02 && !FINISHED.has(board.state) ? ` · ETA ${Math.max(0, Math.round((elapsed / fraction) * (1 - fraction)))} s` : '';
      out.write(`\x1b[2J\x1b[H${study.name} (${id}) · ${board.state} · ${finished}/${total} trials · ${board.objective.direction} ${board.objective.metric}${eta}\n\n`);
      out.write(`${renderLeaderboard(board.rows, { bars: true, limit: (out.rows ?? 40) - 6 })}\n`);
    } else {
      for (const r of board.rows) {
        const key = `${r.state}|${r.epochs}|${r.value}`;
        if (seen.get(r.number) === key) continue;
        seen.set(r.number, key);
        const value = r.value === null ? '-' : r.value.toFixed(4);
        out.write(`trial ${r.number} ${r.state} epoch ${r.epochs}/${r.maxEpochs} ${board.objective.metric}=${value}${r.reason ? ` (${r.reason})` : ''}\n`);
      }
    }
    if (FINISHED.has(board.state)) {
      if (!tty) out.write(`study ${id} ${board.state}${study.reason ? `: ${study.reason}` : ''}\n`);
      else out.write(`\nstudy ${board.state}${study.reason ? `: ${study.reason}` : ''}\n`);
      return board.state === 'completed' ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}
