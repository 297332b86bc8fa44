import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTimeOf } from '@sweepd/core';
import { endGroup, liveMembers } from './process-group.ts';

/**
 * Trial process groups a worker left running when it died without stopping them (kill -9 of
 * `sweepd up` or `sweepd worker`). Each running trial's directory holds a record of its group and of
 * the worker running it; a worker that starts on the same trials directory ends the groups whose
 * worker is gone, before it takes a trial: they would go on training (holding a GPU) beside the
 * trial's next run, writing into its directory.
 *
 * A process is named by its pid and its start time (from /proc), so that a pid the system reused is
 * never taken for the one recorded. Where /proc is missing, nothing is recorded and nothing ended.
 */

const RECORD = '.sweepd-group.json';

interface GroupRecord {
  pgid: number;
  /** The group leader's start time. */
  start: string;
  worker: number;
  workerStart: string;
}

/** Records that this process runs group `pgid` for the trial in `trialDir`. */
export function recordGroup(trialDir: string, pgid: number): void {
  const start = startTimeOf(pgid);
  const workerStart = startTimeOf(process.pid);
  if (start === undefined || workerStart === undefined) return;
  const record: GroupRecord = { pgid, start, worker: process.pid, workerStart };
  try {
    writeFileSync(path.join(trialDir, RECORD), `${JSON.stringify(record)}\n`);
  } catch {
    // A full disk: the group is still ended on a clean stop, only a kill -9 would leave it.
  }
}

/**
 * Whether the group recorded in `trialDir` still runs under a live worker: an earlier delivery of
 * its trial, in this worker or in another on the same trials directory, that went unheard past the
 * ack wait while NATS gave the job to the next one.
 */
export function groupRunsUnderLiveWorker(trialDir: string): boolean {
  const record = readRecord(trialDir);
  return record !== undefined && workerLives(record) && groupLives(record);
}

function readRecord(trialDir: string): GroupRecord | undefined {
  try {
    return JSON.parse(readFileSync(path.join(trialDir, RECORD), 'utf8')) as GroupRecord;
  } catch {
    return undefined;
  }
}

const workerLives = (record: GroupRecord): boolean => startTimeOf(record.worker) === record.workerStart;

/** The leader as recorded, or gone with members left (a group's id is not reused while it has any), and members left. */
function groupLives(record: GroupRecord): boolean {
  const leader = startTimeOf(record.pgid);
  return (leader === undefined || leader === record.start) && liveMembers(record.pgid).length > 0;
}

/** Forgets the record once the group has ended. */
export function releaseGroup(trialDir: string): void {
  rmSync(path.join(trialDir, RECORD), { force: true });
}

/** Ends the groups under `trialsDir` whose worker is gone; returns the trial directories they ran in. */
export async function endOrphanGroups(trialsDir: string, termGraceMs: number, log: (message: string) => void): Promise<string[]> {
  let entries: string[];
  try {
    entries = readdirSync(trialsDir);
  } catch {
    return [];
  }
  const ended: string[] = [];
  for (const entry of entries) if (await endOrphanGroup(path.join(trialsDir, entry), termGraceMs, log)) ended.push(entry);
  return ended;
}

/**
 * Ends the group recorded in `trialDir` when its worker is gone: before a worker runs a trial again
 * in that directory too, since the worker that died may share the trials directory with a live one
 * (workers started in one directory) which then takes the redelivered trial. Returns whether it did.
 */
export async function endOrphanGroup(trialDir: string, termGraceMs: number, log: (message: string) => void): Promise<boolean> {
  const record = readRecord(trialDir);
  if (!record || workerLives(record)) return false; // its worker runs: not an orphan
  let ended = false;
  if (groupLives(record)) {
    const signals = await endGroup(record.pgid, termGraceMs);
    log(
      `ended trial ${path.basename(trialDir)}'s processes (group ${record.pgid}, ${signals.join(' then ') || 'gone meanwhile'}): its worker (pid ${record.worker}) is gone`,
    );
    ended = true;
  }
  rmSync(path.join(trialDir, RECORD), { force: true });
  return ended;
}
