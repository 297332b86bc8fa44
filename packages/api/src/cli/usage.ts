/** The CLI's usage text: the whole of it, and one command's part for `sweepd <command> --help`. */

export const USAGE = `usage: sweepd <command> [options]

  up          start the daemon (embedded PGlite + local workers unless configured otherwise)
                --port N (8080)  --host ADDR (127.0.0.1)  --data-dir DIR (./.sweepd)
                --workers N  --database-url postgres://…  --nats-url nats://…  --pool NAME
                --token T (SWEEPD_API_TOKEN)  --insecure-listen  --log-level debug|info|warn|error
                --plugin-dir DIR (SWEEPD_PLUGIN_DIR; repeatable): the only place specs' plugins load from
  worker      join a NATS worker pool: --nats URL (or --nats-url) [--pool NAME] [--concurrency N] [--gpus 0,1|all|none]
                --pool default; --concurrency: trials at once, one per GPU it uses (1 without GPUs)
  pretrain    pretrain a built-in backbone into the cache, one per image size (or say where it is)
                [--model builtin:small-cnn|builtin:fashion-cnn] [--cache-dir DIR] [--force]
                [--image-size N (32; give the dataset's image_size: the quickstart's is 16)]
  quickstart  start an embedded daemon, run examples/quickstart.yaml, print the best config
                [--port N (SWEEPD_PORT; 8080, a free one when that is taken)] [--data-dir DIR] [--exit]
  submit FILE [--watch]      submit a spec (YAML or JSON)
  ls                         list studies, oldest first [--limit N] [--offset K] (a page: N studies from the K+1th)
  watch ID                   live leaderboard until the study ends, then its answer (at once for an ended study)
  leaderboard ID             the study's trials, ranked [--limit N] [--offset K] (a page: N rows from rank K+1)
  trial ID N                 one trial: parameters, its objective by epoch, why it ended, its diagnosis and advice
  export ID [--format json|yaml|flags|env]
  stop ID [TRIAL]            stop a study, or one of its trials

  Exit codes: 0 ok (watch: the study completed), 1 the watched study stopped or failed (export: the study failed; its best is printed all the same) / unexpected error,
  2 bad usage, 3 rejected by the daemon, 4 daemon unreachable (a proxy's 502/503/504 included), 5 (up) the port is in use,
  6 the daemon failed to answer (HTTP 500 or another 5xx: its log says why; its database or message bus may be down),
  128 + signal (quickstart) interrupted: 130 for Ctrl-C.
  Client commands take --api URL (SWEEPD_API_URL, default http://127.0.0.1:8080) and --token T (SWEEPD_API_TOKEN), after the command or before it.
  Environment for up: SWEEPD_DATABASE_URL, SWEEPD_PORT, SWEEPD_API_TOKEN, SWEEPD_PLUGIN_DIR.
  For up and worker: SWEEPD_NATS_URL (worker: when given no --nats), SWEEPD_NATS_TOKEN (the token the
  NATS server requires, if any), SWEEPD_NATS_PREFIX (stream/subject prefix), SWEEPD_NATS_ACK_WAIT_MS
  (redelivery of a silent worker's job), SWEEPD_LOG_LEVEL, SWEEPD_TF_BACKEND, SWEEPD_TRAINER_THREADS
  (gradient threads per tfjs trainer process). For worker: SWEEPD_GPU_CLAIMS_DIR (where it claims its
  GPUs; default sweepd-gpus-<uid> in the temporary directory). For worker and pretrain: SWEEPD_CACHE_DIR
  (models and features; up keeps them in <data-dir>/cache).
`;

/** The footer (exit codes, client options, environment), kept whole in every command's help. */
const FOOTER = USAGE.slice(USAGE.indexOf('\n  Exit codes:') + 1);

/**
 * One command's usage: a header with its arguments, its lines of the table (the line naming it and
 * the deeper-indented lines under it) and the footer. Undefined for a name the table does not hold.
 */
export function commandUsage(command: string): string | undefined {
  if (!/^[a-z]+$/.test(command)) return undefined;
  const lines = USAGE.slice(0, USAGE.indexOf('\n  Exit codes:')).split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  ${command} `) || l === `  ${command}`);
  if (at < 0) return undefined;
  const line = lines[at] as string;
  const block = [line];
  for (const next of lines.slice(at + 1)) {
    if (!next.startsWith('    ')) break;
    block.push(next);
  }
  // The first column: the command and its arguments ('submit FILE [--watch]'), up to the description.
  const synopsis = (line.trim().split(/ {2,}/)[0] as string).trim();
  const header = synopsis === command ? `${command} [options]` : synopsis;
  return `usage: sweepd ${header}\n\n${block.join('\n')}\n\n${FOOTER}`;
}
