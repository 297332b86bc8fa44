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

export function axis(title, extra = {}) {
  return { title: { display: true, text: title }, ...extra };
}

/** Tick labels for a log axis: only the powers of ten, as 1e-4. */
export function powersOfTen(value) {
  const exponent = Math.log10(value);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9 ? `1e${Math.round(exponent)}` : '';
}
