import { readFileSync } from 'node:fs';

/**
 * A process's start time (clock ticks since boot, from /proc), or undefined when it is gone or
 * /proc is missing. With its pid it names a process: a pid the system reused (after a crash, a
 * reboot, or in a container whose every run is pid 1) has another start time.
 */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the last ')' (the command name may hold any): state is field 3, starttime field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
