/**
 * A trainer process's entry. Ctrl-C at the terminal, or its hang-up, reaches the whole process
 * group, trainer processes too; their parent stops their trials itself (and a command trial's
 * script, in a group of its own, is ended only that way: a trainer dying of the signal would leave
 * it running). So these are taken here, before the trainer's modules load, which takes a while.
 */
import { goOnAfterHangUp } from '@sweepd/core/hang-up';

process.on('SIGINT', () => {});
process.on('SIGHUP', goOnAfterHangUp);
await import('./child.ts');
