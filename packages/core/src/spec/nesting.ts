/** Deeper than any spec needs (a spec nests about 5 levels); far below what costs the YAML parser time. */
export const MAX_NESTING = 64;
/** Leading indentation (spaces and block-sequence dashes) of a line, in characters. */
export const MAX_INDENT = 256;

/**
 * A cheap scan for bodies nested deep enough to make the YAML parser recurse for seconds (100,000
 * nested arrays take it ~3 s before it gives up with a stack overflow), so they are refused before
 * parsing. Counts flow brackets outside quoted strings and comments, and the indentation of block
 * nesting. Returns the problem, or undefined when the text is shallow enough to parse.
 */
export function nestingProblem(text: string): string | undefined {
  let depth = 0;
  let quote: '"' | "'" | undefined;
  let comment = false;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') {
      comment = false;
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      if (ch === ' ' || ch === '-' || ch === '\t' || ch === '?' || ch === ':') {
        if (++indent > MAX_INDENT) return `a line is indented more than ${MAX_INDENT} columns (block nesting that deep is not a spec)`;
        continue;
      }
      lineStart = false;
    }
    if (comment) continue;
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') comment = i === 0 || /\s/.test(text[i - 1] ?? '');
    else if (ch === '[' || ch === '{') {
      if (++depth > MAX_NESTING) return `brackets nest deeper than ${MAX_NESTING} levels`;
    } else if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
  }
  return undefined;
}
