export function num(v, digits = 4) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === null || v === undefined ? '–' : String(v);
  if (Number.isInteger(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  // Below 0.01, fixed digits would drop significant ones: learning rates 0.00137 and 0.0014 apart.
  if (Math.abs(v) < 0.01) return String(Number(v.toPrecision(3)));
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

/** A trial's state as the CLI words it: one still in flight with a reason is being stopped (the reason is the stop's). */
export function trialState(state, reason) {
  return (state === 'running' || state === 'queued') && reason ? 'stopping' : state;
}

/** A study's state as `sweepd ls` words it: an ended study whose trials are still winding down says how many. */
export function studyState(state, counts) {
  const inFlight = (counts.queued ?? 0) + (counts.running ?? 0);
  return state !== 'running' && inFlight > 0 ? `${state} (${inFlight} stopping)` : state;
}
