import os from 'node:os';
import path from 'node:path';
import { acquireDirLock, type DirLock, DirLockError } from '@sweepd/core';

/**
 * Where this user's GPU claims live on this host: SWEEPD_GPU_CLAIMS_DIR, else `sweepd-gpus-<uid>` in
 * the temporary directory. One per user: a lock file another user made could be neither read nor
 * taken over from a worker of theirs that died.
 */
export function gpuClaimsDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): string {
  return env.SWEEPD_GPU_CLAIMS_DIR || path.join(os.tmpdir(), uid === undefined ? 'sweepd-gpus' : `sweepd-gpus-${uid}`);
}

export interface GpuClaims {
  release(): Promise<void>;
}

/**
 * Claims `gpus` for this worker until release or its death: a second worker of this user on the
 * host that asks for one of them is refused at start, naming the holder. Each hands its GPUs to its
 * own trials only, so two that both took every GPU trained two trials on one GPU while another
 * stood idle. A claim of a worker that died (killed with -9) is taken over: the lock names the
 * process by pid and start time.
 */
export async function claimGpus(gpus: readonly string[], dir = gpuClaimsDir()): Promise<GpuClaims> {
  const held: DirLock[] = [];
  try {
    for (const gpu of gpus) held.push(await acquireDirLock(path.join(dir, `gpu-${gpu}.lock`), `GPU ${gpu} of this host`));
  } catch (err) {
    await releaseAll(held);
    if (err instanceof DirLockError)
      throw new DirLockError(
        `${err.message}. Two sweepd workers on one host would train two trials on one GPU: give each its own ` +
          'GPUs (sweepd worker --gpus 0, --gpus 1), or run one GPU worker per host',
      );
    throw new Error(
      `could not claim this worker's GPUs in ${dir}: ${(err as Error).message} (set SWEEPD_GPU_CLAIMS_DIR to a directory of your own)`,
    );
  }
  return { release: () => releaseAll(held) };
}

async function releaseAll(held: readonly DirLock[]): Promise<void> {
  await Promise.allSettled(held.map((lock) => lock.release()));
}
