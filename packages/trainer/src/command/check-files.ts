import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RunnerCheckContext, SpecProblem } from '@sweepd/core';
import { placeholdersIn } from './argv.ts';
import type { CommandOptions } from './options.ts';

/** Script files an interpreter reads (train.py, run.sh), or the program itself when it is a path. */
export const SCRIPT_FILE = /\.(py|js|mjs|cjs|ts|sh|r|jl|rb|pl)$/i;
/** Options after which an argument is code or a module name, not a file. */
export const CODE_FLAGS = new Set(['-c', '-m', '-e', '--eval', '-p', '--print']);
/** Shells whose `-c` code is read for the scripts it runs (the `sh -c 'exec python3 train.py … "$@"'` form). */
const SHELLS = /^(sh|bash|dash|zsh|ksh)$/;
/** Interpreters whose first argument that is not an option is the script they run. */
const INTERPRETERS = /^(python[\d.]*|bash|sh|node|Rscript|julia|ruby|perl)$/;

/**
 * Where the workers see the daemon's files (the embedded daemon's own workers): the working
 * directory, the program and the script files the command names must exist, or every trial fails
 * the same way, one after another. Relative paths are read as the workers read them: cwd from the
 * daemon's working directory, the program and scripts from cwd.
 */
export function missingFiles(options: CommandOptions, ctx: RunnerCheckContext): SpecProblem[] {
  if (ctx.workersShareFiles === false) return [];
  const base = ctx.baseDir ?? process.cwd();
  const problems: SpecProblem[] = [];
  let cwd: string | undefined;
  if (options.cwd !== undefined && placeholdersIn(options.cwd).length === 0) {
    const dir = path.resolve(base, options.cwd);
    if (isDirectory(dir)) cwd = dir;
    else
      problems.push({
        path: 'trainer.options.cwd',
        message: `${dir} is not a directory${path.isAbsolute(options.cwd) ? '' : ` (a relative cwd is read from the daemon's working directory, ${base})`}`,
      });
  }
  options.command.forEach((arg, i) => {
    const at = `trainer.options.command.${i}`;
    if (i > 0 && options.command[i - 1] === '-c' && SHELLS.test(path.basename(options.command[0] as string))) {
      for (const script of scriptsRunBy(arg)) {
        const file = path.isAbsolute(script) ? script : cwd !== undefined ? path.resolve(cwd, script) : undefined;
        if (file !== undefined && !existsSync(file))
          problems.push({ path: at, message: `the shell code runs ${script}, but there is no file at ${file}` });
      }
      return;
    }
    if (placeholdersIn(arg).length > 0 || (i > 0 && CODE_FLAGS.has(options.command[i - 1] as string))) return;
    if (i === 0 && !arg.includes('/')) {
      const searched = options.env.PATH ?? process.env.PATH ?? '';
      if (!onPath(arg, searched))
        problems.push({
          path: at,
          message: `'${arg}' is not found on the PATH of this daemon's workers (${searched || 'empty'}): check the spelling, or give its full path`,
        });
      return;
    }
    if (i > 0 && (arg.startsWith('-') || !SCRIPT_FILE.test(arg))) return;
    // A relative path without cwd is refused on its own (each trial runs in a fresh directory).
    const file = path.isAbsolute(arg) ? arg : cwd !== undefined ? path.resolve(cwd, arg) : undefined;
    if (file === undefined) return;
    if (!existsSync(file)) problems.push({ path: at, message: `no file at ${file}` });
    else if (i === 0) {
      const unrunnable = notRunnable(file);
      if (unrunnable) problems.push({ path: at, message: unrunnable });
    }
  });
  return problems;
}

/**
 * The script files a shell's code hands to an interpreter by a plain name (`exec python3 -u
 * train.py --flag "$@"` → train.py): in each command of the code, the first argument after
 * `python3`, `bash`, `node`, … in command position (after `exec`, `env`, `nohup`, `time`,
 * `timeout N` and variable assignments) that is not an option. A name built by the shell (a
 * variable, a quote, a glob) is left alone, and so is all of it after a `cd`, `pushd` or `source`:
 * only the shell knows where those names are then.
 */
export function scriptsRunBy(code: string): string[] {
  const scripts: string[] = [];
  for (const command of code.split(/&&|\|\||[;&|()\n]/)) {
    const words = command.trim().split(/\s+/).filter(Boolean);
    let i = 0;
    while (i < words.length && (PREFIXES.has(words[i] as string) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i] as string))) {
      i += words[i] === 'timeout' ? 2 : 1;
    }
    const program = words[i];
    if (program === undefined) continue;
    if (/^(cd|pushd|source|\.)$/.test(program)) break;
    if (!INTERPRETERS.test(path.basename(program))) continue;
    let j = i + 1;
    while (j < words.length && (words[j] as string).startsWith('-') && !CODE_FLAGS.has(words[j] as string)) j++;
    const word = words[j];
    if (word === undefined || CODE_FLAGS.has(word) || /[$`'"*?[\]{}~]/.test(word) || !SCRIPT_FILE.test(word)) continue;
    scripts.push(word);
  }
  return scripts;
}

/** Words that run the command after them (`timeout` takes a duration first). */
const PREFIXES = new Set(['exec', 'env', 'nohup', 'time', 'timeout', 'command']);

const INTERPRETER_OF: Readonly<Record<string, string>> = { '.py': 'python3', '.sh': 'bash', '.js': 'node', '.mjs': 'node', '.cjs': 'node' };

/** Why the program at `file` (which exists) cannot be started, or undefined when it can. */
function notRunnable(file: string): string | undefined {
  if (!statSync(file).isFile()) return `${file} is not a file that can be run (a directory?)`;
  try {
    accessSync(file, constants.X_OK);
    return undefined;
  } catch {
    const interpreter = INTERPRETER_OF[path.extname(file).toLowerCase()];
    const runBy = interpreter
      ? `name its interpreter first (command: [${interpreter}, ${file}, …])`
      : 'name the program that runs it first';
    return `${file} is not executable: make it so (chmod +x), or ${runBy}`;
  }
}

function isDirectory(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory();
}

/** Whether `program` is an executable file in one of the PATH's directories. */
function onPath(program: string, searched: string): boolean {
  for (const dir of searched.split(path.delimiter)) {
    if (dir === '') continue;
    try {
      const file = path.join(dir, program);
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return true;
    } catch {
      // not here
    }
  }
  return false;
}
