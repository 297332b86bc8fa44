#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runCommand, UsageError } from './commands.ts';
import { commandUsage, USAGE } from './usage.ts';
import { ApiError } from './client.ts';
import { EXIT, ExitError } from './exit-codes.ts';
import { commandFirst, leadingOptionError } from './leading-options.ts';
import { apiErrorExit, apiErrorText } from './api-error-text.ts';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `sweepd --bogus ls`: an option sweepd does not take before the command, not a command named '--bogus'.
  const leading = leadingOptionError(argv);
  if (leading !== undefined) {
    process.stderr.write(`sweepd: ${leading}\n\n${USAGE}`);
    return EXIT.usage;
  }
  // `sweepd up --help` (any command's --help or -h) is asked for, not a mistake; pretrain has a help of its own.
  const askedForHelp = command !== 'pretrain' && (rest.includes('--help') || rest.includes('-h'));
  if (!command || command === 'help' || command === '--help' || command === '-h' || askedForHelp) {
    // `sweepd help up` and `sweepd up --help` show that command's part; the rest the whole text.
    const topic = askedForHelp ? command : command === 'help' ? rest[0] : undefined;
    const text = topic === undefined ? USAGE : commandUsage(topic);
    if (text === undefined) {
      process.stderr.write(`sweepd: unknown command '${topic}'\n\n${USAGE}`);
      return EXIT.usage;
    }
    process.stdout.write(text);
    return command ? EXIT.ok : EXIT.usage;
  }
  try {
    return await runCommand(command, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sweepd: ${err.message}\n\n${commandUsage(command) ?? USAGE}`);
      return EXIT.usage;
    }
    if (err instanceof ExitError) {
      process.stderr.write(`sweepd: ${err.message}\n`);
      return err.code;
    }
    if (err instanceof ApiError) {
      process.stderr.write(apiErrorText(err));
      return apiErrorExit(err);
    }
    process.stderr.write(`sweepd: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  }
}

// parseArgs is imported here so a broken Node install fails early with a clear error.
void parseArgs;
// `sweepd watch … | head -1`: the reader has gone, and nothing is left to say; exit quietly (as a
// program killed by SIGPIPE would) rather than with an unhandled EPIPE's stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  // The terminal hung up (SIGHUP): a command shutting down on it finishes without it.
  if (err.code === 'EIO') return;
  if (err.code !== 'EPIPE') throw err;
  process.exit(EXIT.ok);
});
process.exitCode = await main(commandFirst(process.argv.slice(2)));
