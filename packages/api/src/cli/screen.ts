/**
 * Redraws a block of text in place on a terminal: each frame moves the cursor back up over the
 * previous one and writes over it, clearing the rest of each line and, after the last, what is left
 * below, so a watch that runs for hours leaves one table on the screen instead of thousands in the
 * scrollback. It never clears from the top left to the end of the screen: tmux (scroll-on-clear) and
 * some terminals push a whole cleared screen into the scrollback, one frame each time. Lines are cut to the
 * terminal's width (a wrapped line would throw the count off) and frames to its height (lines
 * that scroll off the top cannot be reached again).
 */
export class InPlaceScreen {
  private drawn = 0;

  constructor(private readonly size: () => { columns: number; rows: number }) {}

  /** The bytes to write for this frame. */
  frame(text: string): string {
    const { columns, rows } = this.size();
    const lines = text.replace(/\n$/, '').split('\n');
    const fitted = lines.slice(0, Math.max(1, rows - 1)).map((l) => cut(l, columns));
    const back = this.drawn > 0 ? `\x1b[${this.drawn}A\r` : '\r';
    this.drawn = fitted.length;
    return `${back}${fitted.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`;
  }
}

/** Cuts a line to `columns` characters (by code point: the progress bars are one column each). */
function cut(line: string, columns: number): string {
  const chars = [...line];
  return chars.length <= columns ? line : `${chars.slice(0, Math.max(1, columns - 1)).join('')}…`;
}
