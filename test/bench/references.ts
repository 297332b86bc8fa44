/**
 * The Python references the benchmarks compare with (Optuna with PostgreSQL support, scikit-learn,
 * PyTorch), found — or, when missing, installed (unless `--no-install-references`) — before a
 * benchmark runs. A benchmark whose reference is still missing fails: a figure without its
 * reference proves nothing.
 *
 * Where they are looked for, in order: $SWEEPD_BENCH_PYTHON, Debian's /usr/bin/python3 (packages
 * python3-optuna, python3-psycopg2, python3-sklearn, python3-torch), then `python3` on the PATH
 * (pip packages optuna, psycopg2-binary, scikit-learn, torch). The first interpreter that imports
 * every module a benchmark asks for is used, so the modules one reference needs come from one place.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The Python modules a reference needs, with the packages that provide them. */
const PACKAGES: Record<string, { debian: string; pip: string }> = {
  optuna: { debian: 'python3-optuna', pip: 'optuna' },
  psycopg2: { debian: 'python3-psycopg2', pip: 'psycopg2-binary' },
  sklearn: { debian: 'python3-sklearn', pip: 'scikit-learn' },
  torch: { debian: 'python3-torch', pip: 'torch' },
  numpy: { debian: 'python3-numpy', pip: 'numpy' },
};

export const REFERENCE_DIR = path.join(import.meta.dirname, 'references');

function candidates(): string[] {
  const env = process.env.SWEEPD_BENCH_PYTHON;
  return [...(env ? [env] : []), '/usr/bin/python3', 'python3'];
}

function imports(python: string, modules: readonly string[]): boolean {
  const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
  return r.status === 0;
}

const found = new Map<string, string>();

/** Installs the packages for `modules`: apt-get when root on Debian, else pip into the user's site. */
function install(modules: readonly string[]): void {
  const isRoot = process.getuid?.() === 0;
  const debian = modules.map((m) => PACKAGES[m]?.debian ?? `python3-${m}`);
  const apt = isRoot ? spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...debian], { stdio: 'inherit' }) : undefined;
  if (apt?.status === 0 && imports('/usr/bin/python3', modules)) return;
  const pip = modules.map((m) => PACKAGES[m]?.pip ?? m);
  // A machine with a local package index: name it alone, so pip does not retry an unreachable default one.
  const index = existsSync('/opt/pypi/simple')
    ? [
        '--index-url',
        'file:///opt/pypi/simple',
        ...(existsSync('/opt/pypi-more/simple') ? ['--extra-index-url', 'file:///opt/pypi-more/simple'] : []),
      ]
    : [];
  spawnSync('python3', ['-m', 'pip', 'install', '--user', ...index, ...pip], { stdio: 'inherit' });
}

/** Installing is the default: `npm run bench` on a fresh machine gets its references; `--no-install-references` only looks. */
const installWanted = () => !process.argv.includes('--no-install-references') && process.env.SWEEPD_BENCH_INSTALL !== '0';

/**
 * The interpreter that imports all of `modules`; throws, naming the packages to install, when none
 * does (after trying to install them, unless `--no-install-references` was given).
 */
export function referencePython(modules: readonly string[]): string {
  const key = modules.join(',');
  const cached = found.get(key);
  if (cached) return cached;
  let python = candidates().find((p) => imports(p, modules));
  if (!python && installWanted()) {
    install(modules);
    python = candidates().find((p) => imports(p, modules));
  }
  if (!python) {
    const debian = modules.map((m) => PACKAGES[m]?.debian ?? `python3-${m}`).join(' ');
    const pip = modules.map((m) => PACKAGES[m]?.pip ?? m).join(' ');
    throw new Error(
      `reference missing: no Python among ${candidates().join(', ')} imports ${modules.join(', ')}. ` +
        `Install them (apt-get install -y ${debian}, or python3 -m pip install ${pip}), set SWEEPD_BENCH_PYTHON, ` +
        'or rerun without --no-install-references',
    );
  }
  found.set(key, python);
  return python;
}

/** Runs a reference script of test/bench/references with the interpreter that has `modules`; its stdout. */
export function runReference(script: string, args: string[], modules: readonly string[], env: Record<string, string> = {}): string {
  const python = referencePython(modules);
  const file = path.join(REFERENCE_DIR, script);
  const r = spawnSync(python, [file, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.error || r.status !== 0) {
    throw new Error(`reference ${script} ${args.join(' ')} failed (${python}): ${r.error?.message ?? `exit ${r.status}`}`);
  }
  return r.stdout;
}

/** One line saying which interpreter and versions a reference ran with. */
export function referenceVersions(modules: readonly string[]): string {
  const python = referencePython(modules);
  const code = `import sys\nparts=['python '+sys.version.split()[0]]\n${modules
    .map((m) => `import ${m}\nparts.append('${m} '+getattr(${m}, '__version__', '?'))`)
    .join('\n')}\nprint(', '.join(parts))`;
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
  return `${python}: ${r.stdout.trim()}`;
}
