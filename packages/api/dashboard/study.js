import { follow, getJson, post } from './api.js';
import { renderAnswer } from './answer.js';
import { chartCard, color, makeChart, update, valueAxis } from './charts.js';
import { fill, h, studyHref, trialHref } from './dom.js';
import { num, param, studyState, trialState, when } from './format.js';
import { renderPager } from './pager.js';

/** Leaderboard rows per page. */
const PAGE = 50;
/** The most trials the search charts draw: the best ones (a study may have 100,000). */
const DRAWN = 500;
/** The least time between two reads of the whole study for its answer card. */
const ANSWER_EVERY_MS = 3_000;
/** How often a study whose trials all wait is read again for why they wait: no stream event comes while they do. */
const WAITING_EVERY_MS = 5_000;

/** What the answer card depends on: when it changes, the answer is read again. */
function answerKeyOf(state, finished, bestNumber, bestValue) {
  return `${state}:${finished}:${bestNumber}:${bestValue}`;
}

/**
 * One study: header, the search charts and a paged leaderboard, fed by the SSE stream. The
 * stream is asked for the top DRAWN rows only; a page further down is fetched from the
 * leaderboard route, so a study of 100,000 trials costs the page what 500 do.
 */
export async function studyPage(app, ctx, id, signal) {
  const study = await getJson(`/v1/studies/${encodeURIComponent(id)}`, signal);
  ctx.crumbs({ text: 'studies', href: '#/' }, { text: study.name, href: studyHref(id) });
  const metric = study.objective.metric;
  const maximize = study.objective.direction === 'maximize';
  const space = study.spec.space ?? {};
  // Points are coloured by the first categorical parameter (e.g. optimizer), named in the legend.
  let colourBy;

  const header = h('div', { class: 'study-head' });
  // What the user came for, first: the best config against their own (the spec's baseline), and why.
  const answerCard = h('section', { class: 'card answer', id: 'study-answer' });
  renderAnswer(answerCard, study.answer, study);
  // Why the trials wait (a pool no worker serves), as the daemon says it while the study runs with all of them queued.
  const waitingLine = h('p', { class: 'reason', id: 'study-waiting' });
  const showWaiting = (text) => {
    waitingLine.textContent = text ? `waiting: ${text}` : '';
    waitingLine.hidden = !text;
  };
  showWaiting(study.waiting);
  // The answer just read is that of this state, these finished trials and this best: the stream's
  // first event, which says the same, does not read the whole study again.
  const finishedOf = (counts) => (counts.completed ?? 0) + (counts.stopped ?? 0) + (counts.failed ?? 0);
  let answerKey = answerKeyOf(study.state, finishedOf(study.counts), study.best?.trial, study.best?.value);
  // The whole study, for its answer: it weighs every trial (a quarter second at 2,000), so it is
  // read at most once every ANSWER_EVERY_MS and never twice at once, however fast trials end.
  const readAnswer = throttled(
    () =>
      getJson(`/v1/studies/${encodeURIComponent(id)}`, signal).then(
        (s) => {
          renderAnswer(answerCard, s.answer, s);
          // Only a read made for why the trials wait says it (one begun before they started would bring it
          // back); one that does not say it (a busy pool that has workers) ends the reads until the next table.
          if (waitingTimer !== undefined) {
            showWaiting(s.waiting);
            if (!s.waiting) stopWaitingReads();
          }
        },
        () => {},
      ),
    ANSWER_EVERY_MS,
    signal,
  );
  const table = h('table', { class: 'grid', id: 'leaderboard' });
  const pager = h('div', { class: 'pager', id: 'pager' });
  // Each note is rewritten with every table (it names the colours and how many trials are drawn).
  const history = chartCard('Optimization history', '…', 'chart-history');
  // A chart is made only for what the study searches: no empty charts.
  // The learning rate under whichever name the space gives it (lr, base_lr, …), as the diagnoses read it.
  const lrName = study.learningRateParam ?? undefined;
  const lr = lrName && space[lrName] ? chartCard(`Learning rate vs ${metric}`, '…', 'chart-lr') : undefined;
  const frozen = space.frozen_layers ? chartCard(`Frozen layers vs ${metric}`, '…', 'chart-frozen') : undefined;
  const charts = h('div', { class: 'charts three', id: 'study-charts' }, history.card, lr?.card, frozen?.card);
  charts.hidden = true;
  fill(
    app,
    header,
    waitingLine,
    answerCard,
    charts,
    h('section', { class: 'card' }, h('h3', {}, 'Leaderboard'), pager, h('div', { class: 'scroll' }, table)),
  );

  const historyChart = makeChart(history.canvas, {
    type: 'scatter',
    data: { datasets: [] },
    options: { scales: { x: valueAxis('trial', { ticks: { precision: 0 } }), y: valueAxis(metric) } },
  });
  /** The legend names the colours, and the failed trials' crosses when there are any. */
  const legend = (withFailed) => ({
    display: colourBy !== undefined || withFailed,
    title: { display: colourBy !== undefined, text: colourBy },
  });
  const lrChart =
    lr &&
    makeChart(lr.canvas, {
      type: 'scatter',
      data: { datasets: [] },
      options: {
        scales: {
          x: valueAxis(lrName, { type: 'logarithmic', ticks: { autoSkip: false, maxRotation: 0 } }),
          y: valueAxis(metric),
        },
      },
    });
  const frozenChart =
    frozen &&
    makeChart(frozen.canvas, {
      type: 'scatter',
      data: { datasets: [] },
      options: { scales: { x: valueAxis('frozen_layers', { ticks: { precision: 0 } }), y: valueAxis(metric) } },
    });

  let page = 0;
  let latest;
  /** The page shown: the first from the stream, any other from the route (one request at a time). */
  let fetching = false;
  let refetch = false;
  const showPage = async () => {
    if (!latest) return;
    const start = page * PAGE;
    renderPager(pager, { page, total: latest.total, size: PAGE, noun: 'rows', idPrefix: 'page' }, (p) => {
      page = p;
      void showPage();
    });
    // The first page is in every stream event; another is fetched (so the route's paging is what a user clicks through).
    if (page === 0) {
      renderTable(table, latest.rows.slice(start, start + PAGE), latest.columns, id);
      return;
    }
    if (fetching) {
      refetch = true;
      return;
    }
    fetching = true;
    try {
      const board = await getJson(`/v1/studies/${encodeURIComponent(id)}/leaderboard?limit=${PAGE}&offset=${start}`, signal);
      if (board.offset === page * PAGE) renderTable(table, board.rows, board.columns, id);
    } catch (err) {
      ctx.notice(err);
    } finally {
      fetching = false;
      if (refetch) {
        refetch = false;
        void showPage();
      }
    }
  };

  // While every trial in flight is queued the stream is silent: the study is read again now and then for
  // `waiting`, as long as it says why they wait (a read weighs every trial; a tab may stay open for hours).
  let waitingTimer;
  const stopWaitingReads = () => {
    clearInterval(waitingTimer);
    waitingTimer = undefined;
  };
  signal.addEventListener('abort', stopWaitingReads);
  const followWaiting = (s) => {
    const stalled = s.state === 'running' && (s.counts.queued ?? 0) > 0 && (s.counts.running ?? 0) === 0;
    if (!stalled) {
      stopWaitingReads();
      showWaiting(undefined);
    } else if (waitingTimer === undefined && !signal.aborted) {
      waitingTimer = setInterval(readAnswer, WAITING_EVERY_MS);
    }
  };

  const render = (board) => {
    latest = board;
    colourBy = board.columns.find((c) => space[c]?.type === 'categorical');
    renderHeader(header, board, study, ctx);
    followWaiting(board.study);
    void showPage();
    // The answer is re-read when a trial ends or the best moves; a failed read keeps the last one shown.
    // The best is a ranked row: with none, the first row is an unranked one, and the study's `best` is null.
    const top = board.rows[0]?.rank === null ? undefined : board.rows[0];
    const key = answerKeyOf(board.study.state, board.progress.finished, top?.number, top?.value);
    if (key !== answerKey) {
      answerKey = key;
      readAnswer();
    }
    // The best DRAWN trials, in trial order; the best-so-far line covers every trial (the stream's steps).
    const scored = board.rows.filter((r) => typeof r.value === 'number').sort((a, b) => a.number - b.number);
    charts.hidden = scored.length === 0;
    const drawnNote = board.total > board.rows.length ? ` The best ${board.rows.length} of ${board.total} trials are drawn.` : '';
    const lastNumber = Math.max(board.total - 1, ...scored.map((r) => r.number));
    // A failed trial keeps the value it reached before failing, unranked: drawn apart, as a grey cross.
    const kept = scored.filter((r) => r.state !== 'failed');
    const failedPoints = (x) => {
      const rows = scored.filter((r) => r.state === 'failed' && typeof x(r) === 'number');
      return rows.length === 0
        ? []
        : [
            {
              label: 'failed (its value before failing)',
              data: rows.map((r) => ({ x: x(r), y: r.value })),
              backgroundColor: color(8, 0.8),
              borderColor: color(8),
              pointStyle: 'crossRot',
              pointRadius: 6,
            },
          ];
    };
    const steps = board.history.map((s) => ({ x: s.number, y: s.value }));
    if (steps.length > 0) steps.push({ x: lastNumber, y: steps.at(-1).y });
    history.card.querySelector('.note').textContent =
      `${metric} of each trial (points) and the best so far (line), by trial number.${drawnNote}`;
    update(historyChart, {
      datasets: [
        { label: 'a trial', data: kept.map((r) => ({ x: r.number, y: r.value })), backgroundColor: color(0, 0.6), pointRadius: 4 },
        ...failedPoints((r) => r.number),
        {
          label: `best so far (${maximize ? 'highest' : 'lowest'})`,
          type: 'line',
          data: steps,
          borderColor: color(1),
          backgroundColor: color(1),
          stepped: true,
          pointRadius: 0,
          borderWidth: 2,
        },
      ],
    });
    const groups = groupBy(kept, (r) => (colourBy === undefined ? 'trials' : String(r.params[colourBy] ?? '(none)')));
    // A choice keeps its colour and legend place by its place in the spec's choices, not by which trial came first:
    // adam is the same colour at every refresh, and in every study that lists the same choices.
    // A group that is no choice ('(none)', where a condition leaves the parameter out) comes after them, with a colour no choice has.
    const choices = colourBy === undefined ? [] : (space[colourBy]?.choices ?? []).map(String);
    const others = [...groups.keys()].filter((name) => !choices.includes(name)).sort();
    const place = (name) => (choices.includes(name) ? choices.indexOf(name) : choices.length + others.indexOf(name));
    const byGroup = (x) =>
      [...groups]
        .sort(([a], [b]) => place(a) - place(b))
        .map(([name, rows]) => ({
          label: name,
          data: rows.filter((r) => typeof x(r) === 'number').map((r) => ({ x: x(r), y: r.value })),
          backgroundColor: color(groupColour(place(name)), 0.75),
          borderColor: color(groupColour(place(name))),
          pointRadius: 5,
        }));
    const colourNote = colourBy === undefined ? '' : ` Colour: ${colourBy}.`;
    if (lrChart) {
      lr.card.querySelector('.note').textContent = `Best value per trial; log scale.${colourNote}${drawnNote}`;
      lrChart.options.plugins.legend = legend(kept.length < scored.length);
      update(lrChart, { datasets: [...byGroup((r) => r.params[lrName]), ...failedPoints((r) => r.params[lrName])] });
    }
    if (frozenChart) {
      frozen.card.querySelector('.note').textContent = `How many pretrained layers were kept fixed.${colourNote}${drawnNote}`;
      frozenChart.options.plugins.legend = legend(kept.length < scored.length);
      update(frozenChart, { datasets: [...byGroup((r) => r.params.frozen_layers), ...failedPoints((r) => r.params.frozen_layers)] });
    }
  };

  // The first table comes from the stream, and so does every change; it ends after a finished study's last.
  await follow(`/v1/studies/${encodeURIComponent(id)}/leaderboard/stream?rows=${DRAWN}`, {
    signal,
    onState: ctx.live,
    onEvent: (name, data) => {
      if (name !== 'leaderboard') return false;
      const board = JSON.parse(data);
      render(board);
      return board.final;
    },
  });
}

function renderHeader(el, board, study, ctx) {
  const s = board.study;
  const total = board.progress.planned;
  const fraction = Math.min(1, board.progress.epochsDone / Math.max(1, total * s.budget.max_epochs));
  const stop = h('button', { type: 'button', id: 'stop-study' }, 'stop study');
  stop.hidden = s.state !== 'running';
  stop.addEventListener('click', () => post(`/v1/studies/${encodeURIComponent(s.id)}/stop`).catch(ctx.notice));
  fill(
    el,
    h('h1', {}, s.name, ' ', h('span', { class: `state ${s.state}` }, studyState(s.state, s.counts)), ' ', stop),
    s.reason ? h('p', { class: `reason ${s.state}`, id: 'study-reason' }, s.reason) : null,
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
      ` ${Math.round(fraction * 100)} % · ${board.progress.finished}/${total} trials finished · `,
      countsText(s.counts, s.state),
    ),
  );
}

/** The trials by state; an ended study's trials still in flight are being stopped and say so. */
function countsText(counts, state) {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${state !== 'running' && (k === 'running' || k === 'queued') ? 'stopping' : k}`)
    .join(', ');
}

/** The palette's colours for groups, leaving out grey (8): the failed trials' crosses. */
const GROUP_COLOURS = [0, 1, 2, 3, 4, 5, 6, 7, 9];

function groupColour(place) {
  return GROUP_COLOURS[place % GROUP_COLOURS.length];
}

function renderTable(table, rows, columns, id) {
  fill(
    table,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['rank', 'trial', ...columns, 'best', 'epoch', 'state', 'reason'].map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { class: `row ${trialState(r.state, r.reason)}`, dataset: { trial: String(r.number) } },
          h('td', { class: 'num' }, r.rank ?? '–'),
          h(
            'td',
            { class: 'num' },
            h('a', { href: trialHref(id, r.number) }, `#${r.number}`),
            r.baseline ? h('span', { class: 'badge baseline', title: 'your config (the spec’s baseline)' }, ' baseline') : null,
          ),
          columns.map((n) => h('td', { class: 'num' }, r.params[n] === undefined ? '' : param(r.params[n]))),
          h('td', { class: 'num' }, num(r.value), r.bestEpoch ? h('span', { class: 'muted' }, ` @${r.bestEpoch}`) : null),
          h('td', {}, h('progress', { max: r.maxEpochs, value: r.epochs }), ` ${r.epochs}/${r.maxEpochs}`),
          h('td', {}, h('span', { class: `state ${trialState(r.state, r.reason)}` }, trialState(r.state, r.reason))),
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

/**
 * `task` run now, or — while one runs, or ran less than `ms` ago — once afterwards: never two at
 * once, at most one per `ms`, and the last call is never dropped. Nothing runs once `signal` fires.
 */
export function throttled(task, ms, signal) {
  let running = false;
  let pending = false;
  let timer;
  let last = Number.NEGATIVE_INFINITY;
  const run = async () => {
    if (signal.aborted) return;
    const wait = last + ms - Date.now();
    if (running || wait > 0) {
      pending = true;
      if (!running && timer === undefined)
        timer = setTimeout(() => {
          timer = undefined;
          pending = false;
          void run();
        }, wait);
      return;
    }
    running = true;
    last = Date.now();
    try {
      await task();
    } finally {
      running = false;
      if (pending) {
        pending = false;
        void run();
      }
    }
  };
  return run;
}
