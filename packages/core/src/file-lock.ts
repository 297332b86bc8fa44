import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { startTimeOf } from './process-start.ts';

/**
 * A lock file (created with O_EXCL, holding the owner's pid) for a resource that must have one
 * owner at a time across processes: PGlite's data directory (two owners corrupt it), a model being
 * pretrained into a shared cache. It refuses a second owner, whether another process or a second
 * taker in this one. A lock whose process is no longer alive is stale (its owner died without
 * releasing it) and is taken over; the process is named by its pid and start time, so a pid
 * reused since is not taken for it.
 */
export class DirLockError extends Error {
  override readonly name = 'DirLockError';
}

export interface DirLock {
  readonly path: string;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  token: string;
  /** The holder's start time (startTimeOf), where /proc told it: with the pid, it names the process. */
  start: string | undefined;
}

function parseHolder(text: string): Holder | undefined {
  const [pidText, token = '', start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, token, start } : undefined;
}

/**
 * Whether the process that wrote the lock still runs: its pid is alive and, where the lock holds a
 * start time, that pid's process started then. A pid reused since (the daemon was killed, and in a
 * container every run is pid 1) is not the holder.
 */
function holderAlive(holder: Holder): boolean {
  if (!isAlive(holder.pid)) return false;
  return holder.start === undefined || startTimeOf(holder.pid) === holder.start;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<Holder | undefined | 'gone'> {
  try {
    return parseHolder(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
}

/**
 * Takes the lock file at `lockPath` for `what` (e.g. "the PGlite data directory /x", named in
 * errors), or throws a DirLockError naming it and the pid that holds it.
 */
export async function acquireDirLock(lockPath: string, what: string): Promise<DirLock> {
  await mkdir(dirname(lockPath), { recursive: true });
  const token = randomBytes(8).toString('hex');
  // A few rounds: each either creates the file, or finds a live holder (refuse), or clears a stale one.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(`${process.pid} ${token} ${startTimeOf(process.pid) ?? ''}`.trim() + '\n');
      } finally {
        await handle.close();
      }
      return { path: lockPath, release: () => releaseIfOurs(lockPath, token) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(lockPath);
    if (holder === 'gone') continue;
    if (holder && holderAlive(holder)) {
      const who = holder.pid === process.pid ? `this process (pid ${holder.pid})` : `process ${holder.pid}`;
      throw new DirLockError(
        `${what} is already in use by ${who}; only one owner may hold it at a time ` +
          `(if no such process is a sweepd process, delete the lock file ${lockPath})`,
      );
    }
    if (!holder && (await isFresh(lockPath))) {
      // Empty or half written: another opener is between creating the file and writing its pid.
      throw new DirLockError(`${what} is being taken by another process right now (lock file ${lockPath})`);
    }
    // Stale (dead pid) or unreadable and old (a crash while writing it): remove it, unless it changed meanwhile.
    const again = await readHolder(lockPath);
    if (again !== 'gone' && again?.token === holder?.token && again?.pid === holder?.pid) {
      await unlink(lockPath).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }
  throw new DirLockError(`could not take the lock file ${lockPath} for ${what}: it kept changing`);
}

async function isFresh(path: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs < 10_000;
  } catch {
    return false;
  }
}

async function releaseIfOurs(lockPath: string, token: string): Promise<void> {
  const holder = await readHolder(lockPath);
  if (holder !== 'gone' && holder?.token === token) await unlink(lockPath);
}
