import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { nameSchema } from '@sweepd/core';
import { natsEnvProblem, natsUrlProblem } from '../nats.ts';
import { type LogLevel, pinoLogger } from '../ops/log.ts';
import { ApiClient, ApiError, DEFAULT_API_URL } from './client.ts';
import { runQuickstart } from './quickstart.ts';
import { type TrialForText, trialText } from './trial-text.ts';
import { exitOnNextSignal, sayStoppingOnceStarted, untilSignal } from './signal.ts';
import { watchStudy } from './watch.ts';
import { EXIT, ExitError } from './exit-codes.ts';
import { API_LIMITS } from './limits.ts';
import { renderLeaderboard, renderStudies, type StudyListItem } from './table.ts';
import type { LeaderboardRow } from '../views/leaderboard.ts';
import { EXPORT_FORMATS } from '../views/export.ts';

export class UsageError extends Error {}

const clientOptions = {
  api: { type: 'string' },
  token: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/**
 * Parses a command's options; more than `positionals` arguments besides them is bad usage, not
 * ignored. `negative`: what to say of a positional that is a negative number, which Node reads as
 * an unknown option ('-1').
 */
function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  positionals = 0,
  negative?: (value: string) => string,
) {
  const parsed = (() => {
    try {
      return parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals: true, strict: true });
    } catch (err) {
      // Node's own words suggest '-- "--bogus"' with an unbalanced quote; the option is what matters.
      const message = (err as Error).message;
      const unknown = /^Unknown option '([^']+)'/.exec(message);
      const known = Object.keys(options).map((o) => `--${o}`);
      if (unknown && negative && /^-\d/.test(unknown[1] as string)) throw new UsageError(negative(unknown[1] as string));
      if (unknown)
        throw new UsageError(`unknown option '${unknown[1]}'${known.length > 0 ? ` (this command takes ${known.join(', ')})` : ''}`);
      // A value starting with a dash (--offset --api) reads to Node as a missing one: say which value it was.
      const dashed = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message);
      const value = dashed ? args[args.indexOf(dashed[1] as string) + 1] : undefined;
      if (dashed && value !== undefined)
        throw new UsageError(
          `${dashed[1]} got '${value}', which starts with a dash: write ${dashed[1]}=${value} if that is the value meant`,
        );
      const missing = /^Option '(--[\w-]+) <value>' argument missing/.exec(message);
      throw new UsageError(missing ? `${missing[1]} needs a value` : (message.split('\n')[0] ?? message));
    }
  })();
  const extra = parsed.positionals[positionals];
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  return parsed;
}

/**
 * `--limit -1` as `--limit=-1`: Node reads a value starting with a dash as a missing one, but a
 * negative number after an option that takes a value is that value, refused (or taken) by the
 * option's own check, in the same words as any other bad value of it.
 */
function joinNegativeValues(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return [...out, ...args.slice(i)];
    const name = /^--([\w-]+)$/.exec(arg)?.[1];
    const next = args[i + 1];
    if (name !== undefined && Object.hasOwn(options, name) && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i += 1;
    } else out.push(arg);
  }
  return out;
}

function notTrialNumber(value: string): string {
  return `TRIAL must be a trial number, an integer from 0 to ${API_LIMITS.trialNumber} (got '${value}')`;
}

/** A trial number as the API takes it (at most 9 digits: 007 is sent as 7); bad usage otherwise. */
function trialNumber(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n <= API_LIMITS.trialNumber)) throw new UsageError(notTrialNumber(value));
  return n;
}

/** How a value's source is named: `--limit` for the option `limit`, an environment variable (SWEEPD_PORT) as it is. */
function sourceLabel(name: string): string {
  return /^[A-Z_]+$/.test(name) ? name : `--${name}`;
}

/**
 * --limit and --offset as the query of a paged route (empty for the whole list), and the offset (0
 * by default); `max`: the largest of each the route takes (API_LIMITS), checked here.
 */
function pageQuery(values: { limit?: string; offset?: string }, max: { limit: number; offset: number }): { offset: number; query: string } {
  // A page of no rows would be read as "nothing there".
  const limit = intOption(values.limit, 'limit', { min: 1, max: max.limit });
  const offset = intOption(values.offset, 'offset', { max: max.offset }) ?? 0;
  const params = new URLSearchParams({
    ...(limit !== undefined && { limit: String(limit) }),
    ...(offset > 0 && { offset: String(offset) }),
  });
  return { offset, query: params.size > 0 ? `?${params}` : '' };
}

/**
 * An integer from `min` (0 unless told) to `max` (if any), in decimal digits; anything else (-1, 1.5,
 * 1e3, too large) is bad usage, said in one message for every bad value, quoting what was typed.
 * `name`: the option (`limit` for --limit), or the environment variable it came from (SWEEPD_PORT).
 */
function intOption(value: string | undefined, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const { min = 0, max } = range;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && (max === undefined || n <= max))) {
    const wanted =
      max !== undefined
        ? `an integer from ${min} to ${max}`
        : min === 0
          ? 'a non-negative integer'
          : min === 1
            ? 'a positive integer'
            : `an integer of at least ${min}`;
    throw new UsageError(`${sourceLabel(name)} must be ${wanted} (got '${value}')`);
  }
  return n;
}

/** A TCP port: 0 (any free one) to 65535, from --port or else SWEEPD_PORT (named as where it came from). */
function portOption(option: string | undefined): number | undefined {
  const [value, name] = option !== undefined ? [option, 'port'] : [process.env.SWEEPD_PORT, 'SWEEPD_PORT'];
  return intOption(value, name, { max: 65535 });
}

function client(values: { api?: string; token?: string }): ApiClient {
  const api = values.api ?? process.env.SWEEPD_API_URL ?? DEFAULT_API_URL;
  // A malformed address is bad usage (exit 2), not an unreachable daemon (exit 4).
  let protocol: string | undefined;
  try {
    protocol = new URL(api).protocol;
  } catch {}
  const label = values.api === undefined && process.env.SWEEPD_API_URL !== undefined ? 'SWEEPD_API_URL' : '--api';
  if (protocol === undefined && /^https?:\/\//.test(api))
    throw new UsageError(`${label} is not a valid URL (got '${api}'): check the host and the port (at most 65535)`);
  if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`${label} must be an http:// or https:// URL (got '${api}')`);
  return new ApiClient(api, values.token ?? process.env.SWEEPD_API_TOKEN);
}

/** A spec file's text; what makes it no spec at all (missing, empty, not UTF-8 text) is said here, naming the file. */
function readSpecFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new ExitError(`${file} is a directory: give the spec file`, EXIT.usage);
    throw new ExitError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  // A UTF-16 file (Windows editors) reads as text with a NUL after every letter.
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff) || bytes.includes(0))
    throw new ExitError(`${file} is not UTF-8 text (UTF-16, or binary): save it as UTF-8`, EXIT.usage);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Latin-1 and the like: decoded leniently, é would become U+FFFD in a stored name or flag.
    throw new ExitError(`${file} is not UTF-8 text (Latin-1, or another encoding): save it as UTF-8`, EXIT.usage);
  }
  if (text.trim() === '') throw new ExitError(`${file} is empty: write the spec in it (YAML or JSON)`, EXIT.usage);
  return text;
}

export async function runCommand(command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'up': {
      const { values } = parse(args, {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        workers: { type: 'string' },
        pool: { type: 'string' },
        'database-url': { type: 'string' },
        'nats-url': { type: 'string' },
        token: { type: 'string' },
        'insecure-listen': { type: 'boolean' },
        'log-level': { type: 'string' },
        'plugin-dir': { type: 'string', multiple: true },
      });
      const { startDaemon } = await import('../daemon.ts');
      const log = pinoLogger({ level: logLevel(values['log-level'], '--log-level') });
      const port = portOption(values.port) ?? 8080;
      const host = values.host ?? '127.0.0.1';
      const natsUrl = values['nats-url'] ?? process.env.SWEEPD_NATS_URL;
      const badNatsUrl = natsUrl ? natsUrlProblem(natsUrl) : undefined;
      if (badNatsUrl) throw new UsageError(`--nats-url: ${badNatsUrl}`);
      const badNatsEnv = natsUrl ? natsEnvProblem() : undefined;
      if (badNatsEnv) throw new UsageError(badNatsEnv);
      // Listened for from here: the daemon runs its workers and says it is up before startDaemon
      // returns, and a signal meeting Node's default would kill it with its trials' processes.
      // One that comes while it starts is acted on once it has started; a second stops it at once.
      let starting = true;
      const signalled = untilSignal().then((signal) => {
        if (starting) sayStoppingOnceStarted(signal);
        return signal;
      });
      const daemon = await startDaemon({
        port,
        host: values.host,
        dataDir: values['data-dir'],
        databaseUrl: values['database-url'] ?? process.env.SWEEPD_DATABASE_URL,
        natsUrl,
        workers: intOption(values.workers, 'workers'),
        pool: values.pool,
        token: values.token ?? (process.env.SWEEPD_API_TOKEN || undefined),
        insecureListen: values['insecure-listen'] ?? false,
        pluginDirs: values['plugin-dir'] ?? (process.env.SWEEPD_PLUGIN_DIR?.split(path.delimiter).filter(Boolean) || []),
        log,
      }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRINUSE') throw err;
        throw new ExitError(`port ${port} on ${host} is in use — pass --port or stop the other process`, EXIT.portInUse);
      });
      starting = false;
      process.stdout.write(`sweepd listening on ${daemon.url} (store: ${daemon.store.kind}, bus: ${daemon.bus.kind})\n`);
      const end = await Promise.race([signalled.then((signal) => ({ signal })), daemon.failed.then((err) => ({ err }))]);
      if ('signal' in end)
        log.info(
          { signal: end.signal },
          daemon.bus.kind === 'local'
            ? 'shutting down: no new requests; running trials are stopped and handed back (those of running studies run again, from scratch, when the daemon is back; those of stopped studies end as stopped)'
            : "shutting down: no new requests; trials on remote workers train on, and what they report waits in NATS until the daemon is back (this daemon's own workers, if any, stop theirs and hand them back)",
        );
      else process.stderr.write(`sweepd: ${end.err.message}; shutting down\n`);
      if ('err' in end) exitOnNextSignal(); // a signal while closing means "now"
      await daemon.close();
      log.info({}, 'stopped');
      return 'signal' in end ? EXIT.ok : EXIT.failed;
    }
    case 'worker': {
      const { values } = parse(args, {
        nats: { type: 'string' },
        // up's name for it: a worker started beside `sweepd up --nats-url …` takes the same option.
        'nats-url': { type: 'string' },
        pool: { type: 'string' },
        concurrency: { type: 'string' },
        gpus: { type: 'string' },
      });
      const { runWorkerProcess } = await import('./worker.ts');
      if (values.nats !== undefined && values['nats-url'] !== undefined)
        throw new UsageError('worker takes --nats or --nats-url (the same option), not both');
      const natsOption = values['nats-url'] !== undefined ? '--nats-url' : '--nats';
      const nats = values.nats ?? values['nats-url'] ?? process.env.SWEEPD_NATS_URL;
      if (!nats) throw new UsageError('worker needs --nats URL (or SWEEPD_NATS_URL)');
      const badNats = natsUrlProblem(nats);
      if (badNats) throw new UsageError(`${natsOption}: ${badNats}`);
      const badNatsEnv = natsEnvProblem();
      if (badNatsEnv) throw new UsageError(badNatsEnv);
      const pool = values.pool ?? 'default';
      // A pool no spec can name would never get a job.
      const named = nameSchema.safeParse(pool);
      if (!named.success) throw new UsageError(`--pool '${pool}' ${named.error.issues[0]?.message} (as trainer.pool in a spec)`);
      const concurrency = intOption(values.concurrency, 'concurrency', { min: 1 });
      return runWorkerProcess({ nats, pool, concurrency, gpus: values.gpus, logLevel: logLevel(undefined, 'SWEEPD_LOG_LEVEL') });
    }
    case 'pretrain': {
      const { pretrainCommand } = await import('@sweepd/trainer');
      return pretrainCommand(args);
    }
    case 'quickstart': {
      const { values } = parse(args, { port: { type: 'string' }, exit: { type: 'boolean' }, 'data-dir': { type: 'string' } });
      return runQuickstart({
        port: portOption(values.port),
        exitWhenDone: values.exit ?? false,
        dataDir: values['data-dir'],
      });
    }
    case 'submit': {
      const { values, positionals } = parse(args, { ...clientOptions, watch: { type: 'boolean' } }, 1);
      const file = positionals[0];
      if (!file) throw new UsageError('submit needs a spec FILE');
      const text = readSpecFile(file);
      const api = client(values);
      let study: { id: string; name: string; warnings?: string[] };
      try {
        study = await api.submitStudy(text);
      } catch (err) {
        // The daemon knows the spec's text, not its file: the refusal names it here.
        if (err instanceof ApiError && err.status === 400) throw new ApiError(400, `${file}: ${err.message}`, err.body);
        throw err;
      }
      process.stdout.write(`${study.id}\n`);
      for (const warning of study.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
      if (values.watch) return watchStudy(api, study.id);
      return 0;
    }
    case 'ls': {
      const { values } = parse(args, { ...clientOptions, limit: { type: 'string' }, offset: { type: 'string' } });
      const { offset, query } = pageQuery(values, API_LIMITS.ls);
      const { studies, total } = await client(values).json<{ studies: StudyListItem[]; total: number }>('GET', `/v1/studies${query}`);
      const page = { offset, total };
      process.stdout.write(`${renderStudies(studies, process.stdout.isTTY ? 80 : Number.POSITIVE_INFINITY, page)}\n`);
      return 0;
    }
    case 'watch': {
      const { values, positionals } = parse(args, clientOptions, 1);
      if (!positionals[0]) throw new UsageError('watch needs a study ID');
      return watchStudy(client(values), positionals[0]);
    }
    case 'export': {
      const { values, positionals } = parse(args, { ...clientOptions, format: { type: 'string' } }, 1);
      if (!positionals[0]) throw new UsageError('export needs a study ID');
      const format = values.format ?? 'json';
      if (!(EXPORT_FORMATS as readonly string[]).includes(format))
        throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')} (got '${format}')`);
      const api = client(values);
      const id = encodeURIComponent(positionals[0]);
      // The study first: one read as failed has failed for good, whatever ends while its config is read.
      const study = await api.json<StudyForExport>('GET', `/v1/studies/${id}`);
      process.stdout.write(await api.text('GET', `/v1/studies/${id}/export?format=${encodeURIComponent(format)}`));
      // The config stays machine-readable on stdout; what speaks against taking it goes to stderr.
      for (const warning of exportWarnings(study, format)) process.stderr.write(`${warning}\n`);
      // A failed study's best is printed for a look, but a script that goes on with it must not take it for a result.
      return study.state === 'failed' ? 1 : 0;
    }
    case 'stop': {
      const { values, positionals } = parse(args, clientOptions, 2, notTrialNumber);
      const [id, typed] = positionals;
      if (!id) throw new UsageError('stop needs a study ID');
      const trial = typed === undefined ? undefined : trialNumber(typed);
      const api = client(values);
      const target =
        trial === undefined ? `/v1/studies/${encodeURIComponent(id)}/stop` : `/v1/studies/${encodeURIComponent(id)}/trials/${trial}/stop`;
      const answer = await api.json<{ counts?: Record<string, number>; stopping?: boolean }>('POST', target);
      if (trial !== undefined) {
        // A queued trial ends at once; a running one when its script does.
        process.stdout.write(`trial ${trial} of ${id} ${answer.stopping === false ? 'stopped' : 'stopping'}\n`);
        return 0;
      }
      // Running trials are told to stop and end when their scripts do (a grace period at most).
      const inFlight = (answer.counts?.queued ?? 0) + (answer.counts?.running ?? 0);
      process.stdout.write(
        inFlight === 0
          ? `study ${id} stopped\n`
          : `study ${id} stopped; ${inFlight} trial${inFlight === 1 ? ' is' : 's are'} still stopping (sweepd watch ${id} follows them to their end)\n`,
      );
      return 0;
    }
    case 'leaderboard': {
      const { values, positionals } = parse(args, { ...clientOptions, limit: { type: 'string' }, offset: { type: 'string' } }, 1);
      if (!positionals[0]) throw new UsageError('leaderboard needs a study ID');
      // A page of a large study (the route's own paging), not all 100,000 rows.
      const { offset, query } = pageQuery(values, API_LIMITS.leaderboard);
      const board = await client(values).json<{ rows: LeaderboardRow[]; columns: string[]; total: number; waiting?: string }>(
        'GET',
        `/v1/studies/${encodeURIComponent(positionals[0])}/leaderboard${query}`,
      );
      // Cut to fit a terminal; whole where the output is piped or saved.
      const reasonWidth = process.stdout.isTTY ? 60 : Number.POSITIVE_INFINITY;
      // "… N more": the rows after this page.
      const total = Math.max(board.rows.length, board.total - offset);
      // Past the last row: said, as ls says it, not a bare header.
      const text =
        board.rows.length === 0 && board.total > 0
          ? `no trials from rank ${offset + 1} on: there are ${board.total}`
          : renderLeaderboard(board.rows, { columns: board.columns, total, reasonWidth });
      // Queued rows may wait on a pool no worker serves: the page says so.
      process.stdout.write(`${text}\n${board.waiting ? `waiting: ${board.waiting}\n` : ''}`);
      return 0;
    }
    case 'trial': {
      const { values, positionals } = parse(args, clientOptions, 2, notTrialNumber);
      const [id, typed] = positionals;
      if (!id || typed === undefined) throw new UsageError('trial needs a study ID and a trial number');
      const n = trialNumber(typed);
      const api = client(values);
      const study = await api.json<{ objective: { metric: string }; waiting?: string }>('GET', `/v1/studies/${encodeURIComponent(id)}`);
      const trial = await api.json<TrialForText>('GET', `/v1/studies/${encodeURIComponent(id)}/trials/${n}`);
      process.stdout.write(trialText(trial, study.objective.metric, study.waiting));
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

interface StudyForExport {
  id: string;
  state: string;
  reason?: string | null;
  answer: { best: { trial: number } | null; caveat?: string };
  spec?: { trainer?: { runner?: string; options?: { command?: unknown; args?: unknown } } };
}

/**
 * What the user should read beside an exported config: a study that failed, a best that did not
 * learn well, and flags that are not the whole command line its trials ran.
 */
export function exportWarnings(study: StudyForExport, format = 'json'): string[] {
  const out: string[] = [];
  const options = study.spec?.trainer?.runner === 'command' ? study.spec.trainer.options : undefined;
  if (format === 'flags' && Array.isArray(options?.command)) {
    const text = options.command.map(String).join(' ');
    const command = text.length > 200 ? `${text.slice(0, 199)}…` : text;
    // How the trials got their parameters (trainer.options.args): the flags are that command line only with args: flags.
    const args = options.args ?? 'flags';
    out.push(
      args === 'flags'
        ? `note: these are the searched and fixed parameters only; each trial ran them after its command (${command}), whose own arguments (model, data, sizes) are not repeated here.`
        : args === 'placeholders'
          ? `note: these are the searched and fixed parameters as flags; the trials got them in their command's placeholders (${command}), not as flags.`
          : `note: these are the searched and fixed parameters as flags; the trials read them from the params file (args: none), not from their command line (${command}).`,
    );
  }
  if (study.state === 'failed')
    out.push(`note: study ${study.id} failed${study.reason ? ` (${study.reason})` : ''}; this is its best trial before it did.`);
  // The caveat ends the verdict ("…: val_auc_macro 0.7. But trial 3's own diagnosis: …"); alone it starts plainly.
  if (study.answer.caveat) out.push(`note: ${study.answer.caveat.replace(/^But /, '')}`);
  return out;
}

/** The log level of `option`, else SWEEPD_LOG_LEVEL, else info; a usage error naming where a bad one came from. */
function logLevel(option: string | undefined, optionName: string): LogLevel {
  const level = option ?? process.env.SWEEPD_LOG_LEVEL ?? 'info';
  const from = option !== undefined ? optionName : process.env.SWEEPD_LOG_LEVEL !== undefined ? 'SWEEPD_LOG_LEVEL' : optionName;
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new UsageError(`${from} must be debug, info, warn or error (got '${level}')`);
  return level as LogLevel;
}
