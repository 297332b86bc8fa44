import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ExportError, renderBestConfig } from './export.ts';

const bestWith = (config: Record<string, string | number | boolean>) => ({
  study: 'st_x',
  trial: 3,
  objective: { metric: 'val_auc_macro', direction: 'maximize' as const, value: 0.9 },
  config,
});

describe('renderBestConfig', () => {
  it('flags: writes booleans as the command runner passes them, and quotes what the shell would split', () => {
    const best = bestWith({ learning_rate: 0.001, rmsprop_tf1: true, use_bf16: false, optimizer: 'adam', note: 'a b' });
    expect(renderBestConfig(best, 'flags').body).toBe("--learning_rate=0.001 --rmsprop_tf1 --nouse_bf16 --optimizer=adam --note='a b'\n");
  });

  it('env: names a shell accepts, and refuses names that collide or that the shell needs', () => {
    const env = renderBestConfig(bestWith({ 'my-param': 2, 'a.b': 'x y', '3d': true, lr: 1e-7 }), 'env').body;
    expect(env).toBe("MY_PARAM=2\nA_B='x y'\n_3D=true\nLR=1e-7\n");
    // Sourced by a real shell: every assignment takes.
    const seen = execFileSync('bash', ['-c', `${env}\necho "$MY_PARAM|$A_B|$_3D|$LR"`], { encoding: 'utf8' });
    expect(seen).toBe('2|x y|true|1e-7\n');
    expect(() => renderBestConfig(bestWith({ Path: 'a' }), 'env')).toThrow(
      new ExportError("parameter 'Path' would set PATH, which a shell and the programs it starts read: export it as json, yaml or flags"),
    );
    expect(() => renderBestConfig(bestWith({ lr: 1, LR: 2 }), 'env')).toThrow(/parameters 'lr' and 'LR' would both set LR/);
    // Names that run code when a shell or program sees them: a spec's author must not run it for whoever sources the export.
    for (const name of [
      'PROMPT_COMMAND',
      'PS0',
      'NODE_OPTIONS',
      'LD_AUDIT',
      'DYLD_INSERT_LIBRARIES',
      'PYTHONSTARTUP',
      'EDITOR',
      'BASH_FUNC_x',
      'LESSOPEN',
      'LESSCLOSE',
      'MANPAGER',
      'SUDO_ASKPASS',
      'GCONV_PATH',
      'HISTFILE',
      'http_proxy',
      'XDG_CONFIG_HOME',
      'MALLOC_CONF',
      'TERM',
      'GIT_PAGER',
      'CUDA_VISIBLE_DEVICES',
    ])
      expect(() => renderBestConfig(bestWith({ [name.toLowerCase()]: 'touch /tmp/x' }), 'env'), name).toThrow(
        `would set ${name.toUpperCase()},`,
      );
  });

  it('env and flags: a value with a control character is refused (printed, it would drive the terminal)', () => {
    for (const format of ['env', 'flags'] as const)
      expect(() => renderBestConfig(bestWith({ note: 'b\u001b]0;TITLE\u0007' }), format), format).toThrow(
        "the value of 'note' holds a control character: export it as json or yaml",
      );
    expect(renderBestConfig(bestWith({ learning_rate: 0.01, output_dir: '/tmp/x', batch_size: 32 }), 'env').body).toBe(
      'LEARNING_RATE=0.01\nOUTPUT_DIR=/tmp/x\nBATCH_SIZE=32\n',
    );
  });

  it('yaml: PyYAML (YAML 1.1) reads back the same values: off is a key, 1e-7 a number', () => {
    // '=' and '<<' are YAML 1.1's value and merge keys when bare: PyYAML cannot load a file holding them so.
    const config = { off: false, tiny: 1e-7, big: 1e21, lr: 0.001, n: 3, s: 'on', y: 'y', neg: -2e-8, eq: '=', merge: '<<' };
    const body = renderBestConfig(bestWith(config), 'yaml').body;
    const read = execFileSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
      input: body,
      encoding: 'utf8',
    });
    expect(JSON.parse(read)).toEqual({ ...bestWith(config) });
  });
});
