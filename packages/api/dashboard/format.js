export function num(v, digits = 4) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === null || v === undefined ? '–' : String(v);
  if (Number.isInteger(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return v.toFixed(digits);
}

export function param(v) {
  return typeof v === 'number' ? num(v) : String(v);
}

export function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function percent(v) {
  return typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '–';
}

export const FINISHED = new Set(['completed', 'stopped', 'failed']);
