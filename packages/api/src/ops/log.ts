import type { Logger } from '@sweepd/core';
import { type DestinationStream, type Level, pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The daemon's structured log: pino, one JSON object per line on stderr (stdout stays for what
 * a person or a script reads, e.g. "listening on …"), adapted to the Logger surface every package
 * takes. Fields such as studyId and trialId stay top-level fields, so logs can be filtered by them.
 * Anything named like a credential is redacted, as a second line of defence: the token itself is
 * never passed to the logger.
 */
export function pinoLogger(options: { level?: LogLevel; base?: Record<string, unknown>; destination?: DestinationStream } = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'sweepd', ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['token', 'authorization', 'headers.authorization', '*.token', '*.authorization'], censor: '[redacted]' },
    },
    options.destination ?? stderrDestination(),
  );
  const at =
    (level: Level) =>
    (fields: Record<string, unknown>, message: string): void => {
      logger[level](fields, message);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** stderr, where a line that cannot be written (a terminal hung up: EIO) is dropped rather than taking the daemon down. */
function stderrDestination(): DestinationStream {
  const destination = pino.destination({ fd: 2, sync: true });
  destination.on('error', () => {});
  return destination;
}
