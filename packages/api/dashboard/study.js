import { follow, getJson, post } from './api.js';
import { axis, chartCard, color, makeChart, powersOfTen, update } from './charts.js';
import { fill, h, studyHref, trialHref } from './dom.js';
import { FINISHED, num, param, when } from './format.js';

/** One study: header, live leaderboard, and the three search charts, all fed by the SSE stream. */
export async function studyPage(app, ctx, id, signal) {
  const study = await getJson(`/v1/studies/${encodeURIComponent(id)}`, signal);
  ctx.crumbs({ text: 'studies', href: '#/' }, { text: study.name, href: studyHref(id) });
  const metric = study.objective.metric;
  const maximize = study.objective.direction === 'maximize';
  const paramNames = Object.keys(study.spec.space ?? {});

  const header = h('div', { class: 'study-head' });
  const table = h('table', { class: 'grid', id: 'leaderboard' });
  const history = chartCard('Optimization history', `${metric} of each trial and the best so far, by trial number`, 'chart-history');
  const lr = chartCard('Learning rate vs ' + metric, 'best value per trial; log scale; colour = optimizer', 'chart-lr');
  const frozen = chartCard('Frozen layers vs ' + metric, frozenNote(study), 'chart-frozen');
  fill(
    app,
    header,
    h('div', { class: 'charts three' }, history.card, lr.card, frozen.card),
    h('section', { class: 'card' }, h('h3', {}, 'Leaderboard'), h('div', { class: 'scroll' }, table)),
  );

  const historyChart = makeChart(history.canvas, {
    type: 'scatter',
    data: { datasets: [] },
    options: { scales: { x: axis('trial', { ticks: { precision: 0 } }), y: axis(metric) } },
  });
  const lrChart = makeChart(lr.canvas, {
    type: 'scatter',
    data: { datasets: [] },
    options: {
      scales: {
        x: axis('learning_rate', { type: 'logarithmic', ticks: { callback: powersOfTen, autoSkip: false, maxRotation: 0 } }),
        y: axis(metric),
      },
    },
  });
  const frozenChart = makeChart(frozen.canvas, {
    type: 'scatter',
    data: { datasets: [] },
    options: { scales: { x: axis('frozen_layers', { ticks: { precision: 0 } }), y: axis(metric) } },
  });

  const render = (board) => {
    renderHeader(header, board.study, board.rows, study, ctx);
    renderTable(table, board.rows, paramNames, id);
    const scored = board.rows.filter((r) => typeof r.value === 'number').sort((a, b) => a.number - b.number);
    let best;
    const bestLine = scored.map((r) => {
      if (best === undefined || (maximize ? r.value > best : r.value < best)) best = r.value;
      return { x: r.number, y: best };
    });
    update(historyChart, {
      datasets: [
        { label: 'trial', data: scored.map((r) => ({ x: r.number, y: r.value })), backgroundColor: color(0, 0.6), pointRadius: 4 },
        {
          label: 'best so far',
          type: 'line',
          data: bestLine,
          borderColor: color(1),
          backgroundColor: color(1),
          stepped: true,
          pointRadius: 0,
          borderWidth: 2,
        },
      ],
    });
    const groups = groupBy(scored, (r) => String(r.params.optimizer ?? 'all'));
    update(lrChart, {
      datasets: [...groups].map(([name, rows], i) => ({
        label: name,
        data: rows.filter((r) => typeof r.params.learning_rate === 'number').map((r) => ({ x: r.params.learning_rate, y: r.value })),
        backgroundColor: color(i, 0.75),
        pointRadius: 5,
      })),
    });
    const fixedFrozen = study.spec.fixed?.frozen_layers;
    update(frozenChart, {
      datasets: [...groups].map(([name, rows], i) => ({
        label: name,
        data: rows.map((r) => ({ x: r.params.frozen_layers ?? fixedFrozen ?? 0, y: r.value })),
        backgroundColor: color(i, 0.75),
        pointRadius: 5,
      })),
    });
  };

  // The first table comes from the stream; so does every change after it.
  await follow(`/v1/studies/${encodeURIComponent(id)}/leaderboard/stream`, {
    signal,
    onState: ctx.live,
    onEvent: (name, data) => {
      if (name === 'leaderboard') render(JSON.parse(data));
    },
  });
}

function frozenNote(study) {
  if (study.spec.space?.frozen_layers) return 'how many pretrained layers were kept fixed; colour = optimizer';
  if (study.spec.fixed?.frozen_layers !== undefined) return `frozen_layers is fixed at ${study.spec.fixed.frozen_layers} in this study`;
  return 'frozen_layers is not searched in this study (the runner default is shown)';
}

function renderHeader(el, s, rows, study, ctx) {
  const total = s.budget.max_trials;
  const epochsDone = rows.reduce((n, r) => n + (FINISHED.has(r.state) ? r.maxEpochs : r.epochs), 0);
  const fraction = Math.min(1, epochsDone / Math.max(1, total * s.budget.max_epochs));
  const finished = rows.filter((r) => FINISHED.has(r.state)).length;
  const stop = h('button', { type: 'button', id: 'stop-study' }, 'stop study');
  stop.hidden = s.state !== 'running';
  stop.addEventListener('click', () => post(`/v1/studies/${encodeURIComponent(s.id)}/stop`).catch(ctx.fail));
  fill(
    el,
    h('h1', {}, s.name, ' ', h('span', { class: `state ${s.state}` }, s.state), ' ', stop),
    s.reason ? h('p', { class: 'reason' }, s.reason) : null,
    h(
      'p',
      { class: 'muted' },
      `${s.id} · ${s.objective.direction} ${s.objective.metric} · strategy ${study.spec.strategy.name} · `,
      `stopping: ${study.spec.stopping.map((r) => r.name).join(', ') || 'none'} · created ${when(s.createdAt)}`,
    ),
    h(
      'div',
      { class: 'progress-line' },
      h('progress', { max: 1, value: fraction }),
      ` ${Math.round(fraction * 100)} % · ${finished}/${total} trials finished · `,
      countsText(s.counts),
    ),
  );
}

function countsText(counts) {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

function renderTable(table, rows, paramNames, id) {
  const names = [...new Set([...paramNames, ...rows.flatMap((r) => Object.keys(r.params))])];
  fill(
    table,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['rank', 'trial', ...names, 'best', 'epoch', 'state', 'reason'].map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { class: `row ${r.state}`, dataset: { trial: String(r.number) } },
          h('td', { class: 'num' }, r.rank ?? '–'),
          h('td', { class: 'num' }, h('a', { href: trialHref(id, r.number) }, `#${r.number}`)),
          names.map((n) => h('td', { class: 'num' }, r.params[n] === undefined ? '' : param(r.params[n]))),
          h('td', { class: 'num' }, num(r.value), r.bestEpoch ? h('span', { class: 'muted' }, ` @${r.bestEpoch}`) : null),
          h('td', {}, h('progress', { max: r.maxEpochs, value: r.epochs }), ` ${r.epochs}/${r.maxEpochs}`),
          h('td', {}, h('span', { class: `state ${r.state}` }, r.state)),
          h('td', { class: 'reason' }, r.reason ?? ''),
        ),
      ),
    ),
  );
}

function groupBy(items, key) {
  const groups = new Map();
  for (const it of items) {
    const k = key(it);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(it);
  }
  return groups;
}
