/** The options every client command takes, which a user may also write before the command. */
const CLIENT_OPTION = /^--(api|token)(=|$)/;

/**
 * `sweepd --api URL ls` as `sweepd ls --api URL`: the usage says client commands take `--api` and
 * `--token`, and many CLIs take such options before the command. Anything else is left as it is
 * (an option with no value after it, or one the command does not take, is then reported by the
 * command's own parsing, or as an unknown command).
 */
export function commandFirst(argv: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && CLIENT_OPTION.test(argv[i] as string)) {
    const option = argv[i] as string;
    if (option.includes('=')) {
      leading.push(option);
      i += 1;
    } else {
      const value = argv[i + 1];
      if (value === undefined) return [...argv];
      leading.push(option, value);
      i += 2;
    }
  }
  if (leading.length === 0 || i >= argv.length) return [...argv];
  return [argv[i] as string, ...leading, ...argv.slice(i + 1)];
}
