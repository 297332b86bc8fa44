// chart.js (served at /assets/chart.js, a UMD build that defines window.Chart) with the few
// defaults every chart here shares. Charts made for a page are destroyed when the page changes.
import { h } from './dom.js';

const { Chart } = window;
const open = new Set();

Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, sans-serif';
Chart.defaults.plugins.legend.labels.boxWidth = 12;

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

export function color(i, alpha = 1) {
  const hex = PALETTE[i % PALETTE.length];
  if (alpha === 1) return hex;
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** A titled card holding a canvas; returns { card, canvas }. */
export function chartCard(title, note, id) {
  const canvas = h('canvas', { id, 'aria-label': title, role: 'img' });
  const card = h(
    'section',
    { class: 'card chart-card' },
    h('h3', {}, title),
    note ? h('p', { class: 'note' }, note) : null,
    h('div', { class: 'chart-box' }, canvas),
  );
  return { card, canvas };
}

export function makeChart(canvas, config) {
  const chart = new Chart(canvas, config);
  open.add(chart);
  return chart;
}

export function destroyCharts() {
  for (const c of open) c.destroy();
  open.clear();
}

/** Replaces a chart's datasets (and labels) and redraws without animation. */
export function update(chart, { labels, datasets }) {
  if (labels) chart.data.labels = labels;
  chart.data.datasets = datasets;
  chart.update('none');
}

/** A category axis (epochs as labels): a title, chart.js's own labels. */
export function axis(title, extra = {}) {
  return { title: { display: true, text: title }, ...extra };
}

/**
 * A numeric axis with readable tick labels: round values without float noise on a linear axis,
 * powers of ten (or 1-2-5 steps within two decades) on a logarithmic one.
 */
export function valueAxis(title, extra = {}) {
  const callback = extra.type === 'logarithmic' ? logTick : linearTick;
  return axis(title, { ...extra, ticks: { callback, ...extra.ticks } });
}

/** At most `digits` (3) significant digits: 0.30000000000000004 → 0.3, 0.000123 → 1.23e-4. */
export function tickLabel(value, digits = 3) {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  if (a < 1e-3 || a >= 1e5) {
    const [m, e] = value.toExponential(digits - 1).split('e');
    return `${Number(m)}e${Number(e)}`;
  }
  return String(Number(value.toPrecision(digits)));
}

/**
 * Three significant digits, or as many as tell neighbouring ticks apart: a nearly flat curve
 * (a loss stuck at 0.6931) gets an axis of 0.69312, 0.69314, … rather than 0.693 five times.
 */
function linearTick(value, _index, ticks) {
  const step = ticks && ticks.length > 1 ? Math.abs(ticks[1].value - ticks[0].value) : 0;
  if (!(step > 0) || value === 0) return tickLabel(value);
  const digits = Math.floor(Math.log10(Math.abs(value) / step)) + 2;
  return tickLabel(value, Math.min(15, Math.max(3, digits)));
}

/**
 * Log-axis labels: only powers of ten when the axis spans two decades or more, the 1, 2, 5 steps
 * over one to two, and every whole step (0.03, 0.04, …) within one decade, where 1, 2 and 5 may
 * all lie outside the axis and leave it unlabelled (and its two ends where no whole step is inside
 * it); 1e-4 style beyond 0.01–100.
 */
function logTick(value, index, ticks) {
  if (!(value > 0)) return '';
  const lo = ticks[0]?.value;
  const hi = ticks.at(-1)?.value;
  const decades = lo > 0 && hi > 0 ? Math.log10(hi / lo) : 0;
  const { exponent, mantissa } = decimal(value);
  const is = (m) => Math.abs(mantissa - m) < 1e-6 * m;
  if (decades < 1) {
    const whole = (v) => v > 0 && Number.isInteger(Number(decimal(v).mantissa.toFixed(6)));
    if (whole(value)) return tickLabel(value);
    const anyWhole = ticks.some((t) => whole(t.value));
    return !anyWhole && (index === 0 || index === ticks.length - 1) ? tickLabel(value) : '';
  }
  if (is(1)) return Math.abs(exponent) <= 2 ? tickLabel(value) : `1e${exponent}`;
  return decades < 2 && (is(2) || is(5)) ? tickLabel(value) : '';
}

/** value = mantissa × 10^exponent with 1 ≤ mantissa < 10. */
function decimal(value) {
  const exponent = Math.floor(Math.log10(value) + 1e-9);
  return { exponent, mantissa: value / 10 ** exponent };
}
