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

/** What sweepd takes before the command, as its usage names them. */
export const LEADING_OPTIONS = ['--api URL', '--token T', '--help'] as const;

/**
 * What is wrong with an argument list (as commandFirst leaves it) that starts with an option rather
 * than a command: an option sweepd does not take before the command (`sweepd --bogus ls` is no
 * command named '--bogus'), a client option with no value, or client options with no command after
 * them. Undefined when it starts with a command, or with --help or -h (asked for, not a mistake).
 */
export function leadingOptionError(argv: readonly string[]): string | undefined {
  const first = argv[0];
  if (first === undefined || !first.startsWith('-') || first === '--help' || first === '-h') return undefined;
  if (!CLIENT_OPTION.test(first)) return `unknown option '${first}': before the command, sweepd takes ${LEADING_OPTIONS.join(', ')}`;
  // commandFirst moves client options after the command unless a value or the command is missing.
  for (let i = 0; i < argv.length && CLIENT_OPTION.test(argv[i] as string); i += (argv[i] as string).includes('=') ? 1 : 2)
    if (!(argv[i] as string).includes('=') && argv[i + 1] === undefined) return `${argv[i]} needs a value`;
  const option = LEADING_OPTIONS.find((o) => o.startsWith(`${first.split('=')[0]} `)) as string;
  return `no command after ${option.split(' ')[0]}: it goes with a client command (sweepd ${option} ls)`;
}
