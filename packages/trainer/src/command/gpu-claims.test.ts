import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimGpus, gpuClaimsDir } from './gpu-claims.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function claimsDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sweepd-gpu-claims-test-'));
  dirs.push(dir);
  return dir;
}

/** Another process that claims `gpus` in `dir` and holds them until killed; resolves with its pid once it holds them. */
function holder(gpus: string[], dir: string): Promise<number> {
  const script = `
    const { claimGpus } = await import(${JSON.stringify(path.join(import.meta.dirname, 'gpu-claims.ts'))});
    await claimGpus(${JSON.stringify(gpus)}, ${JSON.stringify(dir)});
    console.log('held');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: import.meta.dirname });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) resolve(child.pid as number);
    });
    child.once('exit', (code) => reject(new Error(`the holder exited with ${code}: ${err}`)));
  });
}

describe('GPU claims', () => {
  it('refuses a GPU another process on the host holds, naming it, and takes it over once that process is killed', async () => {
    const dir = await claimsDir();
    const pid = await holder(['1'], dir);
    await expect(claimGpus(['0', '1'], dir)).rejects.toThrow(
      new RegExp(
        `GPU 1 of this host is already in use by process ${pid}.*two sweepd workers on one host would train two trials on one GPU`,
        'i',
      ),
    );
    // The GPU it could take is not kept by the refused claim.
    const zero = await claimGpus(['0'], dir);
    await zero.release();

    process.kill(pid, 'SIGKILL');
    await new Promise((r) => children[0]?.once('exit', r));
    const both = await claimGpus(['0', '1'], dir);
    await expect(claimGpus(['1'], dir)).rejects.toThrow(/GPU 1 of this host is already in use by this process/);
    await both.release();
    await (await claimGpus(['1'], dir)).release();
  }, 60_000);

  it('names the directory when it cannot claim there at all', async () => {
    const file = path.join(await claimsDir(), 'a-file');
    await writeFile(file, '');
    await expect(claimGpus(['0'], file)).rejects.toThrow(
      `could not claim this worker's GPUs in ${file}: EEXIST: file already exists, mkdir '${file}' (set SWEEPD_GPU_CLAIMS_DIR to a directory of your own)`,
    );
  });

  it('claims nothing, and makes no directory, for a CPU-only worker', async () => {
    const dir = path.join(await claimsDir(), 'never');
    await (await claimGpus([], dir)).release();
    await expect(mkdtemp(path.join(dir, 'x'))).rejects.toThrow(/ENOENT/);
  });

  it('lives in SWEEPD_GPU_CLAIMS_DIR, else in a directory of the user in the temporary directory', () => {
    expect(gpuClaimsDir({ SWEEPD_GPU_CLAIMS_DIR: '/srv/claims' }, 1000)).toBe('/srv/claims');
    // One per user: another user's lock files could be neither read nor taken over.
    expect(gpuClaimsDir({}, 1000)).toBe(path.join(tmpdir(), 'sweepd-gpus-1000'));
  });
});
