import type { Store, StudyRecord, TrialRecord } from '@sweepd/core';

/**
 * A study's trials, kept once the study has settled: it has ended and none of its trials is still
 * queued or running. Nothing changes them after that (the engine reads no more reports for them),
 * and reading them again costs what the first read did (seconds for 20,000 trials with their
 * epochs) on every look at the study, each of its trials and its export. Only the last `capacity`
 * studies read are kept: each holds every epoch of its trials.
 */
export class SettledTrials {
  private readonly kept = new Map<string, readonly TrialRecord[]>();

  constructor(
    private readonly store: Pick<Store, 'listTrials'>,
    private readonly capacity = 2,
  ) {}

  /**
   * The trials of `study`, a record read before this call: an ended study takes no new trials, so
   * trials read after it all ended are all it will ever have. Callers must not change what they get.
   */
  async of(study: StudyRecord): Promise<readonly TrialRecord[]> {
    const hit = this.kept.get(study.id);
    if (hit) {
      // The most recently used last: the first is the one to let go.
      this.kept.delete(study.id);
      this.kept.set(study.id, hit);
      return hit;
    }
    const trials = await this.store.listTrials(study.id);
    if (study.state !== 'running' && trials.every((t) => t.state !== 'queued' && t.state !== 'running')) {
      this.kept.set(study.id, trials);
      for (const id of this.kept.keys()) {
        if (this.kept.size <= this.capacity) break;
        this.kept.delete(id);
      }
    }
    return trials;
  }
}
