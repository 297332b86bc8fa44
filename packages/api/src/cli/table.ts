import type { LeaderboardRow } from '../views/leaderboard.ts';

/** Formats a number for a narrow column: AUCs with 4 decimals, learning rates in exponent form. */
export function formatValue(v: unknown): string {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return v.toFixed(4);
}

export function progressBar(done: number, total: number, width = 10): string {
  const filled = total > 0 ? Math.min(width, Math.max(0, Math.round((done / total) * width))) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/** The leaderboard as a fixed-width text table. */
export function renderLeaderboard(rows: readonly LeaderboardRow[], opts: { bars?: boolean; limit?: number } = {}): string {
  const shown = rows.slice(0, opts.limit ?? rows.length);
  const paramNames = [...new Set(shown.flatMap((r) => Object.keys(r.params)))];
  const header = ['rank', 'trial', ...paramNames, 'best', 'epoch', 'state', 'reason'];
  const body = shown.map((r) => [
    r.rank === null ? '-' : String(r.rank),
    String(r.number),
    ...paramNames.map((p) => (r.params[p] === undefined ? '' : formatValue(r.params[p]))),
    r.value === null ? '-' : formatValue(r.value),
    opts.bars ? `${progressBar(r.epochs, r.maxEpochs)} ${r.epochs}/${r.maxEpochs}` : `${r.epochs}/${r.maxEpochs}`,
    r.state,
    truncate(r.reason ?? '', 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const more = rows.length > shown.length ? `\n… ${rows.length - shown.length} more` : '';
  return [line(header), ...body.map(line)].join('\n') + more;
}

function truncate(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
