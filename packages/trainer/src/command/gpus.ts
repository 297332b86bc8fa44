import { spawnSync } from 'node:child_process';

/**
 * The GPU indices `nvidia-smi` lists; none when it is not installed. A `nvidia-smi` that is
 * installed but fails (no driver loaded) is an error: a GPU host that silently trained on the CPU
 * would waste hours.
 */
export function listGpus(command = 'nvidia-smi'): string[] {
  const res = spawnSync(command, ['--query-gpu=index', '--format=csv,noheader'], { encoding: 'utf8', timeout: 30_000 });
  if (res.error) {
    if ((res.error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`${command} failed: ${res.error.message}`);
  }
  if (res.status !== 0) throw new Error(`${command} exited with ${res.status}: ${(res.stderr || res.stdout).trim()}`);
  return res.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * The warning for a CUDA_VISIBLE_DEVICES that names GPUs where nvidia-smi lists none (an exported
 * variable on a host without one, a container without the driver): the trials train on the CPU
 * whatever it says. Undefined where it names none ('' or -1) or GPUs are listed.
 */
export function phantomGpuWarning(listed: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = cudaVisibleDevices(env);
  if (named === undefined || named.length === 0 || listed.length > 0) return undefined;
  return `CUDA_VISIBLE_DEVICES names GPU ${named.join(',')}, but nvidia-smi lists none: command trials train on the CPU here, and no GPU is recorded for them`;
}

/** The devices CUDA_VISIBLE_DEVICES names (ids or UUIDs; empty or -1: none), or undefined where it is not set. */
export function cudaVisibleDevices(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  return env.CUDA_VISIBLE_DEVICES?.split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '' && d !== '-1');
}

/**
 * The GPUs a worker uses: `requested` as `--gpus` gives it (`0,1`, `none` for a CPU-only worker,
 * `all`), or every listed GPU when it is not given. A GPU not in the list is an error.
 */
export function resolveGpus(requested: string | undefined, available: readonly string[]): string[] {
  const text = requested?.trim();
  if (text === undefined) return [...available];
  if (text === 'all') {
    if (available.length === 0) throw new Error('--gpus all: no GPU on this host (nvidia-smi is not installed, or lists none)');
    return [...available];
  }
  // Empty is most often an unset variable ("--gpus $GPUS"): refused, not read as none, which would
  // train a GPU pool on the CPU without a word.
  if (text === '') throw new Error('--gpus is empty: give GPU indices (0,1), all, or none');
  if (text === 'none') return [];
  const gpus = text.split(',').map((g) => g.trim());
  const problems: string[] = [];
  for (const g of gpus) {
    if (!/^\d+$/.test(g)) problems.push(`'${g}' is not a GPU index`);
    else if (!available.includes(g))
      problems.push(`GPU ${g} does not exist (nvidia-smi lists ${available.length ? available.join(', ') : 'none'})`);
  }
  const dup = gpus.find((g, i) => gpus.indexOf(g) !== i);
  if (dup !== undefined) problems.push(`GPU ${dup} is listed twice`);
  if (problems.length) throw new Error(`--gpus ${requested}: ${problems.join('; ')}`);
  return gpus;
}

/** Hands each running trial a GPU of its own. */
export class GpuSlots {
  private readonly free: string[];
  private readonly waiting: Array<(gpu: string) => void> = [];

  constructor(gpus: readonly string[]) {
    this.free = [...gpus];
  }

  async acquire(): Promise<string> {
    const gpu = this.free.shift();
    if (gpu !== undefined) return gpu;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(gpu: string): void {
    const next = this.waiting.shift();
    if (next) next(gpu);
    else this.free.push(gpu);
  }
}
