import { Document, isScalar, type ScalarTag, visit } from 'yaml';
import type { ParamValue, SearchSpec, TrialRecord } from '@sweepd/core';
import { configOrder, inOrder, leaderboard } from './leaderboard.ts';

export const EXPORT_FORMATS = ['json', 'yaml', 'flags', 'env'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface BestConfig {
  study: string;
  trial: number;
  objective: { metric: string; direction: string; value: number };
  /** The spec's fixed values with the trial's searched ones over them: the full training config. */
  config: Record<string, ParamValue>;
  /** Why this config is not one to take as it is (the study answer's caveat: it diverged, or did not learn well). */
  caveat?: string;
}

/** The best trial's full config (searched parameters in the spec's order, then the fixed ones), or undefined while no trial has a value. */
export function bestConfig(
  study: { id: string; spec: SearchSpec; specText?: string },
  trials: readonly TrialRecord[],
): BestConfig | undefined {
  const { spec } = study;
  const top = leaderboard(trials, spec)[0];
  if (!top || top.rank === null || top.value === null) return undefined;
  return {
    study: study.id,
    trial: top.number,
    objective: { ...spec.objective, value: top.value },
    config: inOrder({ ...spec.fixed, ...top.params }, configOrder(study)),
  };
}

/** Renders a best config; `flags` are TF-slim command-line flags, `env` shell assignments. */
export function renderBestConfig(best: BestConfig, format: ExportFormat): { body: string; contentType: string } {
  if (format === 'flags' || format === 'env') refuseControlCharacters(best.config);
  switch (format) {
    case 'json':
      return { body: `${JSON.stringify(best, null, 2)}\n`, contentType: 'application/json' };
    case 'yaml':
      // YAML 1.1 output (PyYAML's yaml.safe_load reads 1.1): `off`, `y`, `no` quoted, not read as booleans.
      return { body: yaml11(best), contentType: 'application/yaml' };
    case 'flags':
      return {
        // Booleans as the command runner passes them (`--name` / `--noname`): argparse's store_true
        // refuses `--name=true`, and absl takes both forms.
        body: `${Object.entries(best.config)
          .map(([k, v]) => (typeof v === 'boolean' ? (v ? `--${k}` : `--no${k}`) : `--${k}=${shellQuote(String(v))}`))
          .join(' ')}\n`,
        contentType: 'text/plain',
      };
    case 'env':
      return {
        body:
          (best.caveat ? `# ${best.caveat.replaceAll('\n', ' ')}\n` : '') +
          envNames(Object.keys(best.config))
            .map(([k, name]) => `${name}=${shellQuote(String(best.config[k]))}\n`)
            .join(''),
        contentType: 'text/plain',
      };
  }
}

/** Why a config cannot be given in a format; the export route answers it as a 409. */
export class ExportError extends Error {}

/**
 * Shell text goes to a terminal and into a shell as it is: a value holding an escape sequence
 * would drive the terminal it is printed on. JSON and YAML write such characters escaped.
 */
function refuseControlCharacters(config: BestConfig['config']): void {
  for (const [k, v] of Object.entries(config))
    if (typeof v === 'string' && CONTROL_CHARACTER.test(v))
      throw new ExportError(`the value of '${k}' holds a control character: export it as json or yaml`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Variables a sourced export must not set: the shell and the programs it starts need them, or run what they say. */
const SHELL_VARIABLES = new Set([
  'PATH',
  'HOME',
  'SHELL',
  'IFS',
  'PWD',
  'OLDPWD',
  'USER',
  'ENV',
  'BASH_ENV',
  'CDPATH',
  'PS1',
  'PS2',
  'PS4',
  'LD_LIBRARY_PATH',
  'LD_PRELOAD',
  'PYTHONPATH',
  'PYTHONHOME',
  'PROMPT_COMMAND',
  'SHELLOPTS',
  'BASHOPTS',
  'GLOBIGNORE',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'BROWSER',
  'TMPDIR',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
]);
/**
 * Families of variables that programs read, some to run what they say: the loader's (LD_AUDIT),
 * bash's (PS0 runs before each command), less's (LESSOPEN), man's (MANPAGER), sudo's
 * (SUDO_ASKPASS), Node's, Python's, Git's, proxies, locales, toolchains, GPU and thread settings.
 * A spec's author chooses the names, and whoever sources an export must not run what they say;
 * a list can never be complete, so it is wide, and a refused name can always go as json, yaml or
 * flags.
 */
const SHELL_VARIABLE_FAMILIES =
  /^(LD_|DYLD_|BASH|PS[0-9]|PROMPT|NODE_|NPM_|PYTHON|PIP_|CONDA|VIRTUAL_ENV|PERL|RUBY|GEM_|JAVA|_JAVA|CLASSPATH|GIT_|SSH_|GPG|GNUPG|LC_|LANG|LESS|MAN|SUDO_|GCONV|HIST|XDG_|MALLOC|TERM|DISPLAY|XAUTH|DBUS|OPENSSL|SSL_|CURL|WGET|HTTP|FTP|NO_PROXY|ALL_PROXY|CUDA|NCCL|OMP_|MKL_|TF_|TORCH|CC$|CXX|CFLAGS|CPPFLAGS|LDFLAGS|CPATH|LIBRARY_PATH|PKG_CONFIG|TZ$|TMP|TEMP|LOGNAME$|MAIL)|(_PATH|_OPTIONS|_OPTS|_FLAGS|_PROXY|_COMMAND|_CMD|_HOOK|OPEN|CLOSE|ASKPASS|PAGER|EDITOR|RC|_PRELOAD)$/;

/**
 * Each parameter's shell variable: upper case, any character but a letter, digit or _ as _
 * (`my-param` → MY_PARAM), a leading digit after an _. Two parameters that would share a name,
 * or one that would overwrite a variable the shell needs (`Path` → PATH), are an ExportError.
 */
function envNames(keys: readonly string[]): Array<[string, string]> {
  const taken = new Map<string, string>();
  return keys.map((k) => {
    const name = k
      .toUpperCase()
      .replace(/[^A-Z0-9_]/g, '_')
      .replace(/^(?=[0-9])/, '_');
    if (SHELL_VARIABLES.has(name) || SHELL_VARIABLE_FAMILIES.test(name))
      throw new ExportError(
        `parameter '${k}' would set ${name}, which a shell and the programs it starts read: export it as json, yaml or flags`,
      );
    const other = taken.get(name);
    if (other !== undefined)
      throw new ExportError(`parameters '${other}' and '${k}' would both set ${name}: export them as json, yaml or flags`);
    taken.set(name, k);
    return [k, name];
  });
}

/**
 * YAML 1.1 text of `value`. The yaml package writes the strings `=` and `<<` bare, which YAML 1.1
 * reads as its value and merge keys: PyYAML's safe_load then fails on the whole file. They are quoted.
 */
function yaml11(value: unknown): string {
  const doc = new Document(value, { version: '1.1', customTags: (tags) => [YAML11_FLOAT, ...tags] });
  visit(doc, {
    Scalar(_key, node) {
      if (!isScalar(node)) return;
      if (node.value === '=') node.type = 'QUOTE_DOUBLE';
      // Quoting is not kept for '<<' (the yaml package writes it bare, as a merge key); a string tag is: !!str "<<".
      if (node.value === '<<') node.tag = 'tag:yaml.org,2002:str';
    },
  });
  return doc.toString();
}

/**
 * Floats as YAML 1.1 reads them as numbers: with a point and a signed exponent (1.0e-7, 1.0e+21).
 * The yaml library writes 1e-7, which PyYAML's safe_load returns as the string '1e-7'.
 */
const YAML11_FLOAT: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  identify: (v) => typeof v === 'number' && Number.isFinite(v) && (!Number.isInteger(v) || String(v).includes('e')),
  test: /^[-+]?[0-9]+\.[0-9]*e[-+][0-9]+$/i,
  resolve: (text) => Number(text),
  stringify: ({ value }) => {
    const text = String(value);
    if (!text.includes('e')) return text;
    const [mantissa, exponent] = text.split('e') as [string, string];
    return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${exponent.startsWith('-') ? exponent : `+${exponent.replace('+', '')}`}`;
  },
};

/** `text` as one word of a POSIX shell command line: as it is when it is safe, else single-quoted. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_.,:+\-/=]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
