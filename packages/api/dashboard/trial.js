import { follow, getJson, post } from './api.js';
import { axis, chartCard, color, makeChart, update, valueAxis } from './charts.js';
import { diagnose, reasonBoxShown } from './diagnostics.js';
import { fill, h, studyHref, trialHref } from './dom.js';
import { FINISHED, num, param, percent, trialState, when } from './format.js';

const QUANTILES = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1];

/** One trial: diagnostics in words, then its curves, per-class AUC and per-layer statistics. */
export async function trialPage(app, ctx, id, n, signal) {
  const path = `/v1/studies/${encodeURIComponent(id)}/trials/${encodeURIComponent(n)}`;
  let trial = await getJson(path, signal);
  const study = await getJson(`/v1/studies/${encodeURIComponent(id)}`, signal);
  // The parameters in the order every table uses (the leaderboard route says which).
  const { columns } = await getJson(`/v1/studies/${encodeURIComponent(id)}/leaderboard?limit=0`, signal);
  ctx.crumbs(
    { text: 'studies', href: '#/' },
    { text: study.name, href: studyHref(id) },
    { text: `trial ${trial.number}`, href: trialHref(id, trial.number) },
  );

  const head = h('div', { class: 'trial-head' });
  const failure = h('section', { class: 'card failure', id: 'failure' });
  const diag = h('section', { class: 'card', id: 'diagnostics' });
  const curves = chartCard('Loss and score per epoch', 'losses on the left axis, AUC and other 0–1 scores on the right', 'chart-curves');
  const classes = chartCard('AUC per class', 'at the best epoch', 'chart-classes');
  const kernel = chartCard(
    'Kernel movement ‖W−W₀‖/‖W₀‖',
    'relative to the pretrained weights, per trainable layer; log scale',
    'chart-kernel',
  );
  const bias = chartCard('Bias movement ‖b−b₀‖', 'absolute, not relative (new biases start at zero), per layer', 'chart-bias');
  const sparsity = chartCard(
    'Sparsity and dead units',
    "solid: fraction of zero activations on the probe batch (event files: on the script's own summary batch); dashed: units zero on the whole probe",
    'chart-sparsity',
  );
  const layerSelect = h('select', { id: 'layer-select', 'aria-label': 'layer' });
  const histogram = chartCard(
    'Weight distribution per epoch',
    'kernel quantiles: min–max, 5–95 %, 25–75 % bands and the median (a TensorBoard-style histogram from the stored quantiles)',
    'chart-histogram',
  );
  histogram.card.querySelector('h3').append(' ', layerSelect);
  const undefinedList = h('p', { class: 'note', id: 'auc-undefined' });
  classes.card.append(undefinedList);
  const kernelUndrawn = h('p', { class: 'note', id: 'kernel-undrawn' });
  kernel.card.append(kernelUndrawn);
  const curvesUndrawn = h('p', { class: 'note', id: 'curves-undrawn' });
  curves.card.append(curvesUndrawn);
  fill(
    app,
    head,
    failure,
    diag,
    h('div', { class: 'charts two' }, curves.card, classes.card, kernel.card, bias.card, histogram.card, sparsity.card),
  );

  const curvesChart = makeChart(curves.canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      scales: {
        x: axis('epoch'),
        y: valueAxis('loss', { position: 'left' }),
        auc: valueAxis('AUC / score', { position: 'right', grid: { drawOnChartArea: false } }),
      },
    },
  });
  const classesChart = makeChart(classes.canvas, {
    type: 'bar',
    data: { labels: [], datasets: [] },
    options: { scales: { y: valueAxis('ROC AUC', { min: 0, max: 1 }) }, plugins: { legend: { display: false } } },
  });
  const kernelChart = makeChart(kernel.canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: { scales: { x: axis('epoch'), y: valueAxis('relative movement', { type: 'logarithmic' }) } },
  });
  const biasChart = makeChart(bias.canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: { scales: { x: axis('epoch'), y: valueAxis('absolute movement') } },
  });
  const sparsityChart = makeChart(sparsity.canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: { scales: { x: axis('epoch'), y: valueAxis('fraction', { min: 0, max: 1 }) } },
  });
  const histogramChart = makeChart(histogram.canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: { scales: { x: axis('epoch'), y: valueAxis('weight value') }, plugins: { filler: { propagate: false } } },
  });

  let layer;
  layerSelect.addEventListener('change', () => {
    layer = layerSelect.value;
    drawHistogram();
  });

  const drawHistogram = () => {
    const labels = trial.epochs.map((e) => e.epoch);
    const at = (q) => trial.epochs.map((e) => e.layers.find((l) => l.layer === layer)?.quantiles?.[QUANTILES.indexOf(q)] ?? null);
    const band = (lo, hi, alpha, label) => [
      {
        label: `${label} low`,
        data: at(lo),
        borderColor: color(0, alpha + 0.2),
        backgroundColor: color(0, alpha),
        pointRadius: 0,
        borderWidth: 1,
        fill: false,
      },
      {
        label,
        data: at(hi),
        borderColor: color(0, alpha + 0.2),
        backgroundColor: color(0, alpha),
        pointRadius: 0,
        borderWidth: 1,
        fill: '-1',
      },
    ];
    update(histogramChart, {
      labels,
      datasets: [
        ...band(0, 1, 0.12, 'min–max'),
        ...band(0.05, 0.95, 0.22, '5–95 %'),
        ...band(0.25, 0.75, 0.35, '25–75 %'),
        { label: 'median', data: at(0.5), borderColor: color(1), backgroundColor: color(1), pointRadius: 2, borderWidth: 2, fill: false },
      ],
    });
    histogramChart.options.plugins.legend.labels.filter = (item) => !item.text.endsWith(' low');
    histogramChart.update('none');
  };

  const render = () => {
    const epochs = trial.epochs;
    const labels = epochs.map((e) => e.epoch);
    const series = (key) => epochs.map((e) => e.metrics[key] ?? null);
    renderHead(head, trial, study, columns, ctx);
    renderFailure(failure, trial);
    renderDiagnostics(diag, trial);

    update(curvesChart, { labels, datasets: curveSeries(series, study.objective.metric) });
    // Stored non-finite values arrive as null: a curve of nothing but NaN draws bare axes, so it is said instead,
    // naming the curves this card draws.
    const drawable = curveLabels(study.objective.metric);
    const nonFinite = drawable.filter((k) => epochs.some((e) => Object.hasOwn(e.metrics, k)));
    curvesUndrawn.textContent =
      curvesChart.data.datasets.length > 0
        ? ''
        : nonFinite.length > 0
          ? `Nothing to draw: ${listWords(nonFinite)} ${nonFinite.length === 1 ? 'was' : 'were'} NaN or infinite at every epoch ${nonFinite.length === 1 ? 'it was' : 'they were'} reported.`
          : `Nothing to draw: none of ${listWords(drawable, 'or')} was reported.`;

    const best = epochs.find((e) => e.epoch === bestEpoch(trial, study)) ?? epochs.at(-1);
    const perClass = perClassAuc(best?.metrics ?? {});
    update(classesChart, {
      labels: perClass.map(([c]) => c),
      datasets: [
        {
          label: 'AUC',
          data: perClass.map(([, v]) => v),
          backgroundColor: perClass.map(([, v]) => (v < 0.6 ? color(1, 0.7) : color(2, 0.7))),
        },
      ],
    });
    classes.card.querySelector('.note').textContent = best ? `at epoch ${best.epoch}; red: below 0.6` : 'no epoch yet';
    const missing = best?.notes?.auc_undefined_classes;
    // Only a list the epoch carries is said: event files (and scripts that do not note them) do not
    // say which classes had no AUC, so their absence is not "every class has one".
    undefinedList.textContent =
      Array.isArray(missing) && missing.length > 0 ? `No AUC (only one label value in validation): ${missing.join(', ')}` : '';

    const layers = [...new Set(epochs.flatMap((e) => e.layers.map((l) => l.layer)))];
    const perLayer = (key, filter = () => true) =>
      layers
        .filter((name) => epochs.some((e) => e.layers.some((l) => l.layer === name && typeof l[key] === 'number' && filter(l))))
        // One colour per layer across every chart: its index among all layers.
        .map((name) => ({ name, i: layers.indexOf(name), data: epochs.map((e) => e.layers.find((l) => l.layer === name)?.[key] ?? null) }));
    const frozenLabel = (name) => (epochs.at(-1)?.layers.find((l) => l.layer === name)?.trainable === false ? `${name} (frozen)` : name);
    // Zero kernel movement cannot be drawn on a log axis; frozen layers show as absent, which is what they are.
    update(kernelChart, {
      labels,
      datasets: perLayer('kernelMovement', (l) => l.trainable).map(({ name, i, data }) => ({
        label: name,
        data: data.map((v) => (v > 0 ? v : null)),
        borderColor: color(i),
        backgroundColor: color(i),
      })),
    });
    kernelUndrawn.textContent = undrawnKernels(epochs, layers, kernelChart.data.datasets);
    update(biasChart, {
      labels,
      datasets: perLayer('biasMovement').map(({ name, i, data }) => ({
        label: frozenLabel(name),
        data,
        borderColor: color(i),
        backgroundColor: color(i),
      })),
    });
    update(sparsityChart, {
      labels,
      datasets: [
        ...perLayer('sparsity').map(({ name, i, data }) => ({
          label: `${name} sparsity`,
          data,
          borderColor: color(i),
          backgroundColor: color(i),
        })),
        ...perLayer('deadFraction').map(({ name, i, data }) => ({
          label: `${name} dead`,
          data,
          borderColor: color(i),
          backgroundColor: color(i),
          borderDash: [5, 4],
        })),
      ],
    });
    // No empty charts: a card shows only when it has something to draw.
    curves.card.hidden = epochs.length === 0;
    classes.card.hidden = perClass.length === 0 && !(Array.isArray(missing) && missing.length > 0);
    for (const c of [kernel, bias, sparsity, histogram]) c.card.hidden = layers.length === 0;
    kernel.card.hidden ||= kernelChart.data.datasets.length === 0 && kernelUndrawn.textContent === '';
    // A card kept for its note alone shows no empty axes (a bare log axis reads as a scale of movement).
    curvesChart.canvas.parentElement.hidden = curvesChart.data.datasets.length === 0;
    kernelChart.canvas.parentElement.hidden = kernelChart.data.datasets.length === 0;
    bias.card.hidden ||= biasChart.data.datasets.length === 0;
    sparsity.card.hidden ||= sparsityChart.data.datasets.length === 0;

    const withQuantiles = layers.filter((name) => epochs.some((e) => e.layers.some((l) => l.layer === name && l.quantiles)));
    if (layer === undefined || !withQuantiles.includes(layer))
      layer = withQuantiles.find((name) => epochs.at(-1)?.layers.find((l) => l.layer === name)?.trainable) ?? withQuantiles[0];
    fill(
      layerSelect,
      withQuantiles.map((name) => h('option', { value: name, selected: name === layer }, name)),
    );
    histogram.card.hidden ||= withQuantiles.length === 0;
    drawHistogram();
  };
  render();
  if (FINISHED.has(trial.state) && study.state !== 'running') return;

  // The stream says which trials changed (rows=0: no table needed); a snapshot (no changes listed) may hide one.
  await follow(`/v1/studies/${encodeURIComponent(id)}/leaderboard/stream?rows=0`, {
    signal,
    onState: ctx.live,
    onEvent: async (name, data) => {
      if (name !== 'leaderboard') return false;
      const board = JSON.parse(data);
      const final = board.final;
      const touched = board.changes.length === 0 || board.changes.some((c) => c.trial === trial.number || c.type === 'study');
      if (!touched) return final;
      try {
        trial = await getJson(path, signal);
        render();
      } catch (err) {
        // The daemon going down mid-fetch: the page stays, and the next event fetches again.
        ctx.notice(err);
      }
      return final;
    },
  });
}

function bestEpoch(trial, study) {
  let best;
  let at;
  for (const e of trial.epochs) {
    const v = e.metrics[study.objective.metric];
    if (typeof v !== 'number') continue;
    if (best === undefined || (study.objective.direction === 'maximize' ? v > best : v < best)) {
      best = v;
      at = e.epoch;
    }
  }
  return at;
}

function renderHead(el, trial, study, columns, ctx) {
  const state = trialState(trial.state, trial.reason);
  const stop = h('button', { type: 'button' }, 'stop trial');
  // Finished, or its stop already on its way: nothing a second click would add.
  stop.hidden = FINISHED.has(trial.state) || state === 'stopping';
  stop.addEventListener('click', () => post(`/v1/studies/${encodeURIComponent(study.id)}/trials/${trial.number}/stop`).catch(ctx.notice));
  const notes = trial.epochs.at(-1)?.notes ?? {};
  // A trial that never started has no start time to show: it says so instead.
  const started = trial.startedAt
    ? `started ${when(trial.startedAt)}`
    : FINISHED.has(trial.state)
      ? 'never started'
      : 'waiting for a worker';
  const names = [...columns.filter((c) => c in trial.params), ...Object.keys(trial.params).filter((k) => !columns.includes(k))];
  fill(
    el,
    h('h1', {}, `Trial ${trial.number} `, h('span', { class: `state ${state}` }, state), ' ', stop),
    h(
      'p',
      { class: 'muted', id: 'trial-facts' },
      `${study.objective.metric} ${num(trial.value)} · ${trial.epochs.length}/${study.budget.max_epochs} epochs · ${started}`,
      trial.finishedAt ? ` · ended ${when(trial.finishedAt)}` : '',
      trial.worker ? ` · worker ${trial.worker}` : '',
      // Delivered again (a worker died or handed it back): the epochs shown are this delivery's, trained from scratch.
      typeof trial.attempt === 'number' && trial.attempt > 1
        ? ` · delivery ${trial.attempt} (its earlier deliveries' epochs were trained again from scratch)`
        : '',
      notes.backend ? ` · backend ${notes.backend}` : '',
      Array.isArray(notes.frozen_layers) ? ` · frozen: ${notes.frozen_layers.join(', ') || 'none'}` : '',
      trial.logs ? ` · logs ${trial.logs.dir} (${trial.logs.host ? `on ${trial.logs.host}` : 'on the worker'})` : '',
    ),
    h(
      'table',
      { class: 'params', id: 'params' },
      h(
        'tbody',
        {},
        names.map((k) => h('tr', {}, h('th', {}, k), h('td', { class: 'mono' }, param(trial.params[k])))),
      ),
    ),
  );
}

/** Why a trial failed or was stopped, first: the reason, and the last lines its process wrote to stderr. */
function renderFailure(el, trial) {
  const notes = trial.notes ?? {};
  const tail = Array.isArray(notes.stderr_tail)
    ? notes.stderr_tail.join('\n')
    : typeof notes.stderr_tail === 'string'
      ? notes.stderr_tail
      : '';
  el.hidden = !reasonBoxShown(trial);
  const exit = notes.exit_signal
    ? `killed by ${notes.exit_signal}`
    : typeof notes.exit_code === 'number'
      ? `exit code ${notes.exit_code}`
      : '';
  fill(
    el,
    h('h3', {}, trial.state === 'failed' ? 'Why it failed' : 'Why it stopped'),
    h('p', { class: 'reason', id: 'failure-reason' }, trial.reason ?? 'no reason was recorded'),
    exit ? h('p', { class: 'note' }, exit) : null,
    tail.trim() ? [h('p', { class: 'note' }, 'the end of its stderr:'), h('pre', { class: 'stderr', id: 'stderr-tail' }, tail)] : null,
  );
}

function renderDiagnostics(el, trial) {
  // A trial that ended before its first epoch has nothing to diagnose but its reason, which the box above shows.
  el.hidden = reasonBoxShown(trial) && trial.epochs.length === 0;
  const items = diagnose(trial);
  const last = trial.epochs.at(-1);
  const summary = last
    ? last.layers
        .filter((l) => l.trainable && typeof l.deadFraction === 'number')
        .map((l) => `${l.layer}: ${percent(l.deadFraction)} dead`)
        .join(' · ')
    : '';
  fill(
    el,
    h('h3', {}, 'Diagnosis'),
    h(
      'ul',
      { class: 'diagnostics' },
      items.map((d) => h('li', { class: d.severity, dataset: { flag: d.flag } }, h('strong', {}, d.flag), ': ', d.text)),
    ),
    summary ? h('p', { class: 'note' }, summary) : null,
  );
}

/**
 * An epoch's per-class AUCs as [class, AUC], by class name with numbers in names by value
 * (class_2 before class_10): the store keeps no key order, and its own (shorter keys first) would
 * put cat before airplane.
 */
export function perClassAuc(metrics) {
  return Object.entries(metrics)
    .filter(([k]) => k.startsWith('val_auc['))
    .map(([k, v]) => [k.slice('val_auc['.length, -1), v])
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
}

/** The curves the loss-and-score card draws: the losses, the AUCs and the objective. */
const CURVES = [
  { label: 'train_loss', color: 0, axis: 'y' },
  { label: 'val_loss', color: 4, axis: 'y' },
  { label: 'val_auc_macro', color: 2, axis: 'auc', width: 3 },
  { label: 'val_auc_micro', color: 3, axis: 'auc', dash: [4, 3] },
];

function curveLabels(objective) {
  const labels = CURVES.map((c) => c.label);
  return labels.includes(objective) ? labels : [...labels, objective];
}

/** 'a', 'a and b', 'a, b and c' (or with `or`). */
function listWords(words, and = 'and') {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} ${and} ${words.at(-1)}`;
}

/**
 * The loss and score curves: the losses and AUCs scripts usually report, and the study's objective
 * whatever its name (val_accuracy, a custom score) — on the 0–1 axis when its values lie there,
 * else beside the losses. A series with no value is left out, so no empty legend entries.
 */
export function curveSeries(series, objective) {
  const fixed = [...CURVES];
  if (!fixed.some((f) => f.label === objective)) {
    const values = series(objective).filter((v) => typeof v === 'number');
    const unit = values.length > 0 && values.every((v) => v >= 0 && v <= 1);
    fixed.push({ label: objective, color: 5, axis: unit ? 'auc' : 'y', width: 3 });
  }
  return fixed
    .map((f) => ({ f, data: series(f.label) }))
    .filter(({ data }) => data.some((v) => v !== null))
    .map(({ f, data }) => ({
      label: f.label,
      data,
      borderColor: color(f.color),
      backgroundColor: color(f.color),
      yAxisID: f.axis,
      ...(f.width ? { borderWidth: f.width } : {}),
      ...(f.dash ? { borderDash: f.dash } : {}),
    }));
}

/**
 * Why a trainable layer with a kernel has no line in the movement chart: a kernel that started at
 * zero (a new head) has no movement relative to its start, and one that never moved has nothing to
 * draw on a log axis. Without this the layer that learns most, the head, is silently absent.
 */
export function undrawnKernels(epochs, layers, datasets) {
  const drawn = new Map(datasets.map((d) => [d.label, d.data.some((v) => v !== null)]));
  const last = (name, key) => epochs.findLast((e) => e.layers.some((l) => l.layer === name && typeof l[key] === 'number'));
  const fromZero = [];
  const unmeasured = [];
  const still = [];
  // Layers whose weights went NaN or infinite (the worker names them in the epoch's notes): from which epoch.
  const nonFinite = new Map();
  for (const e of epochs)
    for (const name of Array.isArray(e.notes?.non_finite_layers) ? e.notes.non_finite_layers : [])
      if (!nonFinite.has(name)) nonFinite.set(name, e.epoch);
  const broken = [];
  for (const name of layers) {
    const stats = epochs.flatMap((e) => e.layers.filter((l) => l.layer === name));
    if (!stats.some((l) => l.trainable && (l.quantiles || typeof l.updateRatio === 'number'))) continue;
    if (nonFinite.has(name)) broken.push(`${name} (from epoch ${nonFinite.get(name)})`);
    else if (drawn.get(name) === false) still.push(name);
    else if (!drawn.has(name)) {
      const e = last(name, 'updateRatio');
      const ratio = e?.layers.find((l) => l.layer === name)?.updateRatio;
      // Without an update ratio either, nothing measured movement: distributions read from event
      // files (weight histograms) come without the starting weights, whatever the layer's start.
      if (e) fromZero.push(`${name} (‖ΔW‖/‖W‖ ${num(ratio, 3)} in its epoch ${e.epoch})`);
      else unmeasured.push(name);
    }
  }
  const parts = [];
  if (unmeasured.length > 0)
    parts.push(
      `No movement measured for ${unmeasured.join(', ')}: their statistics are distributions only (as TensorBoard histograms give them, without the starting weights); see “Weight distribution per epoch”.`,
    );
  if (fromZero.length > 0)
    parts.push(
      `Not drawn, their kernels started at zero (a new head), so there is no movement relative to the start: ${fromZero.join(', ')}.`,
    );
  if (still.length > 0) parts.push(`Trainable but never moved (nothing to draw on a log scale): ${still.join(', ')}.`);
  if (broken.length > 0) parts.push(`Weights NaN or infinite, not drawn from then on: ${broken.join(', ')}.`);
  return parts.join(' ');
}
