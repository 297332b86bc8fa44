import type { EpochRecord } from '../../../packages/core/src/index.ts';

/** The figures the seed story prints per trial: curve, kernels vs biases, sparsity, dead units and negative-fraction drift. */

export const auc = (e: EpochRecord | undefined) => e?.metrics.val_auc_macro;
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
export const med = (xs: (number | undefined)[]) => median(xs.filter((x): x is number => x !== undefined && Number.isFinite(x)));
export const f = (x: number | undefined, d = 3) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
export const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toPrecision(2)}%`);

export function figures(t: { value?: number | null; epochs: readonly EpochRecord[] }) {
  const first = t.epochs[0];
  const last = t.epochs.at(-1);
  const layerMedian = (e: EpochRecord | undefined, key: 'kernelMovement' | 'biasMovement' | 'fractionNegative' | 'sparsity') =>
    med((e?.layers ?? []).filter((l) => l.trainable !== false).map((l) => l[key]));
  const maxSparsity = (e: EpochRecord | undefined) => Math.max(0, ...(e?.layers ?? []).map((l) => l.sparsity ?? 0));
  const maxDead = (e: EpochRecord | undefined) => Math.max(0, ...(e?.layers ?? []).map((l) => l.deadFraction ?? 0));
  return {
    best: t.value ?? undefined,
    final: auc(last),
    curve: t.epochs.map((e) => f(auc(e), 2)).join(' '),
    epochs: t.epochs.length,
    kernels: layerMedian(last, 'kernelMovement'),
    biases: layerMedian(last, 'biasMovement'),
    sparsity: [maxSparsity(first), maxSparsity(last)] as const,
    dead: Math.max(0, ...t.epochs.map(maxDead)),
    negative: [layerMedian(first, 'fractionNegative'), layerMedian(last, 'fractionNegative')] as const,
    perClass: Object.entries(last?.metrics ?? {})
      .filter(([k]) => k.startsWith('val_auc['))
      .map(([k, v]) => `${k.slice(8, -1)} ${f(v, 2)}`)
      .join(', '),
  };
}
