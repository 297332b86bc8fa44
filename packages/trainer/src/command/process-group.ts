import { readdirSync, readFileSync } from 'node:fs';

/**
 * A trial's script runs as the leader of its own process group, so everything it starts (data
 * loader workers, a shell's children) is signalled and checked together.
 */

/** Groups of trials still running in this process: killed if this process exits without stopping them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

/** Remembers a group until `forget`; if this process exits first (a drain cut short), the group is SIGKILLed. */
export function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers run synchronously; process.kill is synchronous, so this still reaches them.
    process.on('exit', () => {
      for (const g of liveGroups) signalGroup(g, 'SIGKILL');
    });
  }
}

export function forgetGroup(pgid: number): void {
  liveGroups.delete(pgid);
}

/** Sends `signal` to every process of the group; false when none is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * The group's processes that still run. On Linux from /proc, leaving out zombies (dead, waiting to
 * be reaped; in a container without an init they may never be, and kill(-pgid, 0) counts them);
 * elsewhere whether kill(-pgid, 0) finds anyone (-1 standing for "some").
 */
export function liveMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return signalGroup(pgid, 0 as unknown as NodeJS.Signals) ? [-1] : [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') pids.push(Number(entry));
  }
  return pids;
}

/** Waits up to `ms` for the group to be empty; true when it is. */
export async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (liveMembers(pgid).length === 0) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Ends whatever is left of the group: SIGTERM, `termGraceMs` to exit, then SIGKILL, and checks
 * that nothing survived. Throws when something did (a process in uninterruptible sleep, e.g. stuck
 * in a GPU driver call): the worker must not take the next trial on a GPU that is still in use.
 * Returns which signals it had to send.
 */
export async function endGroup(pgid: number, termGraceMs: number): Promise<NodeJS.Signals[]> {
  const sent: NodeJS.Signals[] = [];
  if (liveMembers(pgid).length > 0) {
    if (signalGroup(pgid, 'SIGTERM')) sent.push('SIGTERM');
    if (!(await waitGroupGone(pgid, termGraceMs))) {
      if (signalGroup(pgid, 'SIGKILL')) sent.push('SIGKILL');
      if (!(await waitGroupGone(pgid, 5_000))) {
        throw new Error(`process group ${pgid} survived SIGKILL: pids ${liveMembers(pgid).join(', ')} still run`);
      }
    }
  }
  forgetGroup(pgid);
  return sent;
}
