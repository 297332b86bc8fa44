/**
 * The reason of a trial that trained every epoch of its budget before a stop asked of it took
 * effect (a divergence found at its last report, say): it completed, and says why it was asked.
 * Written here and read back by the diagnosis, so that the two cannot drift apart.
 */
export function lateStopReason(maxEpochs: number, stop: string): string {
  return `trained its ${epochsText(maxEpochs)} before the stop took effect (${stop})`;
}

/** The stop a lateStopReason names (a restart's note after it included), or undefined for any other reason. */
export function lateStopOf(reason: string): string | undefined {
  return /^trained its \d+ epochs? before the stop took effect \((.*)\)/.exec(reason)?.[1];
}

/** '1 epoch', '3 epochs'. */
export function epochsText(n: number): string {
  return `${n} epoch${n === 1 ? '' : 's'}`;
}
