/**
 * More entries than any spec has (a spec holds tens; a large grid a few hundred). The YAML
 * parser's time grows with the square of a mapping's entries when it checks for repeated keys:
 * 40,000 keys (440 KB) held a daemon for 36 s. Mapping entries are counted as ':' characters.
 */
export const MAX_SPEC_ENTRIES = 4_000;
/** Lines and flow items (',') together: sequences parse faster, but not for free. */
export const MAX_SPEC_ITEMS = 20_000;

/**
 * A cheap count, before parsing, of what makes the parser slow: mapping entries, and lines and
 * flow items. Returns the problem, or undefined when the text is small enough to parse.
 */
export function sizeProblem(text: string): string | undefined {
  let colons = 0;
  let items = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58)
      colons++; // ':'
    else if (c === 10 || c === 44) items++; // '\n' or ','
  }
  if (colons > MAX_SPEC_ENTRIES)
    return `has ${colons} ':' (mapping entries), more than the ${MAX_SPEC_ENTRIES} any spec needs: is this the file you meant to send?`;
  if (items > MAX_SPEC_ITEMS)
    return `has ${items} lines and ',' (items), more than the ${MAX_SPEC_ITEMS} any spec needs: is this the file you meant to send?`;
  return undefined;
}
