// What the per-epoch statistics say about a trial, in words. These mirror the stopping rules
// (weight-stall, dead-units, divergence) and the practitioner's symptoms in DESIGN.md: "the weight
// histograms barely move, the biases do, sparsity grows, weights drift negative".

export const STALL_RATIO = 1e-4;

/** Returns [{ flag, severity: 'bad'|'warn'|'info', text }] for a trial (as GET /v1/studies/:id/trials/:n answers). */
export function diagnose(trial) {
  const out = [];
  const epochs = trial.epochs ?? [];
  const last = epochs.at(-1);
  const first = epochs[0];
  if (trial.reason) out.push({ flag: 'stop reason', severity: trial.state === 'failed' ? 'bad' : 'info', text: trial.reason });
  if (!last) return out;

  const flags = last.notes?.diagnostics;
  if (last.notes?.diverged || /^diverged/.test(trial.reason ?? '')) {
    out.push({
      flag: 'diverged',
      severity: 'bad',
      text: 'the loss became NaN or infinite: the learning rate is far too high — try 10–100× lower.',
    });
  }

  const trainable = last.layers.filter((l) => l.trainable && typeof l.updateRatio === 'number');
  const stalled = (trainable.length > 0 && trainable.every((l) => l.updateRatio < STALL_RATIO)) || flags?.stalled === true;
  const biasesMoved = first && first !== last && growing(first.layers, last.layers, 'biasMovement');
  if (stalled && biasesMoved) {
    out.push({
      flag: 'stalled',
      severity: 'bad',
      text:
        'kernels stalled while biases moved: learning rate likely too high — the units the large first updates pushed negative stay dead, ' +
        'so only biases still change. Try learning rates 1e-5 … 1e-3 (Adam 1e-4 … 1e-3) or freeze more layers — see "weight movement" below.',
    });
  } else if (stalled) {
    out.push({
      flag: 'stalled',
      severity: 'warn',
      text: `every trainable kernel moved less than ${STALL_RATIO} (relative) in the last epoch: the weights are not learning — see "weight movement" below.`,
    });
  }

  const dead = last.layers.filter((l) => typeof l.deadFraction === 'number' && l.deadFraction >= 0.5);
  if (dead.length > 0 || flags?.dying === true) {
    const worst = dead.sort((a, b) => b.deadFraction - a.deadFraction)[0];
    out.push({
      flag: 'dying units',
      severity: 'bad',
      text: worst
        ? `${(worst.deadFraction * 100).toFixed(0)} % of the units of ${worst.layer} are zero on the whole probe batch (dead ReLUs): a sign of a learning rate that is too high — see "sparsity and dead units" below.`
        : 'the runner flagged dying units.',
    });
  } else if (first && first !== last && growing(first.layers, last.layers, 'sparsity', 0.1)) {
    out.push({
      flag: 'sparsity growing',
      severity: 'warn',
      text: 'activation sparsity grew by more than 10 points since epoch 1: watch for dying units.',
    });
  }

  if (first && first !== last) {
    const drift = last.layers.filter((l) => {
      const before = first.layers.find((f) => f.layer === l.layer)?.fractionNegative;
      return l.trainable && typeof l.fractionNegative === 'number' && typeof before === 'number' && l.fractionNegative - before > 0.05;
    });
    if (drift.length > 0)
      out.push({
        flag: 'weights drifting negative',
        severity: 'warn',
        text: `the share of negative kernel weights grew by more than 5 points in ${drift.map((l) => l.layer).join(', ')}.`,
      });
  }

  const undefinedClasses = last.notes?.auc_undefined_classes;
  if (Array.isArray(undefinedClasses) && undefinedClasses.length > 0) {
    out.push({
      flag: 'AUC undefined',
      severity: 'info',
      text: `no AUC for ${undefinedClasses.join(', ')}: the validation set has only one label value for them; the macro AUC leaves them out.`,
    });
  }
  if (out.length === 0 || (out.length === 1 && out[0].flag === 'AUC undefined'))
    out.push({ flag: 'healthy', severity: 'ok', text: 'weights move, units are alive and the loss is finite.' });
  return out;
}

function growing(before, after, key, by = 0) {
  let grew = false;
  for (const l of after) {
    const b = before.find((x) => x.layer === l.layer)?.[key];
    if (typeof l[key] === 'number' && typeof b === 'number' && l[key] > b + by) grew = true;
  }
  return grew;
}
