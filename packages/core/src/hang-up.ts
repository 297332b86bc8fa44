import { closeSync } from 'node:fs';

let hungUp = false;

/**
 * What a process that goes on after its terminal hung up (SIGHUP) needs: every write to the
 * terminal fails (EIO), and must not kill it; and at exit Node 20 restores the terminal's settings
 * and aborts when it cannot (nodejs/node#51519), so a clean exit would end in SIGABRT. It skips
 * descriptors that are closed, so the terminal's are closed at exit. Called again, it does nothing.
 */
export function goOnAfterHangUp(): void {
  if (hungUp) return;
  hungUp = true;
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  process.once('exit', () => {
    for (const fd of [0, 1, 2]) {
      try {
        closeSync(fd);
      } catch {
        // closed already
      }
    }
  });
}
