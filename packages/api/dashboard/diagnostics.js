// What the evidence says about a trial, in words. The words come from the server
// (GET /v1/studies/:id/trials/:n answers `diagnosis`, computed by diagnoseTrial in @sweepd/search
// from kernel and bias movement, dead units, the objective's course and the trial's learning rate
// against its peers'): the dashboard does not guess a cause of its own.

const SEVERITY = {
  healthy: 'ok',
  'static-kernels-but-learning': 'ok',
  'too-low': 'bad',
  'too-high': 'bad',
  'dying-units': 'bad',
  diverged: 'bad',
  'learning-slowly': 'warn',
  'no-learning': 'warn',
  'no-evidence': 'info',
};

/** Whether the trial page opens with the trial's reason in a box of its own (a failed trial, or one stopped for a reason). */
export function reasonBoxShown(trial) {
  return trial.state === 'failed' || (trial.state === 'stopped' && Boolean(trial.reason));
}

/** Returns [{ flag, severity: 'bad'|'warn'|'info'|'ok', text }] for a trial (as GET /v1/studies/:id/trials/:n answers). */
export function diagnose(trial) {
  const out = [];
  // Said once: where the page's reason box shows it, not again here.
  if (trial.reason && !reasonBoxShown(trial)) out.push({ flag: 'stop reason', severity: 'info', text: trial.reason });
  const d = trial.diagnosis;
  if (d) {
    // The summary says the verdict in words ("Learning rate too low: …"); its label need not repeat it as a code.
    out.push({ flag: 'diagnosis', severity: SEVERITY[d.verdict] ?? 'info', text: d.summary });
    if (d.advice) out.push({ flag: 'advice', severity: 'info', text: d.advice });
    for (const line of d.evidence ?? []) out.push({ flag: 'evidence', severity: 'info', text: line });
  }
  const undefinedClasses = trial.epochs?.at(-1)?.notes?.auc_undefined_classes;
  if (Array.isArray(undefinedClasses) && undefinedClasses.length > 0) {
    out.push({
      flag: 'AUC undefined',
      severity: 'info',
      text: `no AUC for ${undefinedClasses.join(', ')}: the validation set has only one label value for them; the macro AUC leaves them out.`,
    });
  }
  return out;
}
