import { listSome, noAucClasses, type TrialView } from '@sweepd/core';
import type { Diagnosis } from './diagnosis-types.ts';
import type { JudgeContext } from './judge-context.ts';

/** A trial with no epoch: nothing to judge, and why (a setup error, a stop before its first epoch). */
export function noEpochVerdict({ trial }: JudgeContext): Diagnosis | undefined {
  if (trial.epochs.length > 0) return undefined;
  // No evidence to list: its rate is not a finding about a trial that never trained (a setup error, say).
  // A stop's reason (a user, a study's end) is not why there was nothing to judge: the timing is.
  const why = trial.state === 'stopped' ? `stopped before its first epoch${trial.reason ? ` (${trial.reason})` : ''}` : trial.reason;
  return {
    verdict: 'no-evidence',
    summary: why ? `No epoch to judge: ${why}${/[.!?]$/.test(why) ? '' : '.'}` : 'No epoch to judge yet.',
    evidence: [],
    advice: '',
  };
}

/** Epochs without the objective (and no divergence to read instead): report it, or name it so. */
export function noObjectiveVerdict({ trial, m, e, metricName, evidence }: JudgeContext): Diagnosis | undefined {
  if (m || e.diverged) return undefined;
  // Kernel movement alone cannot say whether the rate is right: without the objective there is
  // no telling whether the movement bought anything.
  // The script did report: the AUC had no class to average (one label value each in validation).
  const noAuc = /auc/i.test(metricName) ? noAucClasses(trial.epochs.at(-1)?.notes) : [];
  return {
    verdict: 'no-evidence',
    summary: trial.reason ? `No ${metricName} to judge by: ${trial.reason}` : `No ${metricName} to judge by: it was never reported.`,
    evidence,
    // Only when not reporting it is the trouble, not a trial that failed or stopped before it could.
    advice:
      noAuc.length > 0
        ? `Validate on data that holds both label values of each class: ${listSome(noAuc)} had only one, and a class with one has no AUC.`
        : !trial.reason || /never (reported|finite)/.test(trial.reason)
          ? reportObjectiveAdvice(trial, metricName)
          : '',
  };
}

/**
 * What to do about an objective never reported: report it, or, when the trial reported other
 * metrics (the objective under another name, or a tag mapped to another), name the objective so.
 */
function reportObjectiveAdvice(trial: TrialView, metric: string): string {
  const reported = [...new Set(trial.epochs.flatMap((e) => Object.keys(e.metrics)))].filter((n) => n !== metric).sort();
  if (reported.length === 0) return `Report ${metric} every epoch (the study's objective) so that the training can be judged.`;
  return (
    `It reported ${listSome(reported, 4)}, but not ${metric}: if one of those is the objective, set objective.metric to its name ` +
    `(or, for event files, map its tag to ${metric}); otherwise report ${metric} every epoch.`
  );
}
