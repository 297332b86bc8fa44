import { getJson, Unauthorized } from './api.js';
import { fill, h, studyHref } from './dom.js';
import { FINISHED, num, studyState, when } from './format.js';
import { renderPager } from './pager.js';

/** Studies per page. */
const PAGE = 50;

/**
 * The list of studies, newest first, a page at a time, refreshed every few seconds; a failed
 * refresh (the daemon restarting) is said and retried.
 */
export async function studiesPage(app, ctx, signal) {
  ctx.crumbs({ text: 'studies' });
  /** Pages counted from the newest study: page 0 holds the latest PAGE. */
  let page = 0;
  let wake = () => {};
  const pager = h('div', { class: 'pager', id: 'studies-pager' });
  for (;;) {
    let studies;
    let total;
    const asked = page;
    try {
      ({ studies, total } = await newestFirst(page, signal));
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof Unauthorized) throw err;
      const note = document.getElementById('studies-down') ?? app.appendChild(h('p', { class: 'reason failed', id: 'studies-down' }));
      note.textContent = `cannot reach the daemon (${err.message}); retrying`;
      await new Promise((r) => setTimeout(r, 3000));
      if (signal.aborted) return;
      continue;
    }
    // Studies were deleted under the page shown (a database reset): show the last page there is.
    if (studies.length === 0 && page > 0) {
      page = Math.max(0, Math.ceil(total / PAGE) - 1);
      continue;
    }
    renderPager(pager, { page, total, size: PAGE, noun: 'studies', idPrefix: 'studies-page' }, (p) => {
      page = p;
      wake();
    });
    const rows = studies.map((s) => {
      const done = ['completed', 'stopped', 'failed'].reduce((n, k) => n + (s.counts[k] ?? 0), 0);
      const failed = s.counts.failed ?? 0;
      return h(
        'tr',
        {},
        h('td', {}, h('a', { href: studyHref(s.id) }, s.name)),
        h('td', { class: 'mono' }, s.id),
        h('td', {}, h('span', { class: `state ${s.state}` }, studyState(s.state, s.counts))),
        h('td', { class: 'num' }, `${done}/${plannedTrials(s)}${failed > 0 ? ` (${failed} failed)` : ''}`),
        h('td', { class: 'num' }, num(s.best)),
        h('td', {}, `${s.objective.direction} ${s.objective.metric}`),
        h('td', {}, when(s.createdAt)),
        h('td', { class: `reason ${s.state}` }, s.reason ?? ''),
      );
    });
    fill(
      app,
      h('h1', {}, 'Studies'),
      total === 0
        ? h('p', { class: 'muted' }, 'No studies yet: sweepd submit examples/quickstart.yaml')
        : [
            pager,
            h(
              'table',
              { class: 'grid', id: 'studies' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['name', 'id', 'state', 'trials', 'best', 'objective', 'created', 'reason'].map((t) => h('th', {}, t)),
                ),
              ),
              h('tbody', {}, rows),
            ),
          ],
    );
    // A page asked for while this one was read is read at once.
    if (page !== asked) continue;
    // A page of ended studies changes only when one is submitted, which moves the pages: read again less often.
    const running = studies.some((s) => !FINISHED.has(s.state));
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, running ? 3000 : 10_000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (signal.aborted) return;
  }
}

/**
 * The trials a study is out of: max_trials, or, once it completed, those it had (a grid that ran out
 * of points first completes with fewer), as the study page's progress says.
 */
function plannedTrials(s) {
  if (s.state !== 'completed') return s.budget.max_trials;
  return Math.max(
    1,
    Object.values(s.counts).reduce((n, k) => n + k, 0),
  );
}

/**
 * Page `page` of the studies, newest first. The API lists oldest first, so the page is cut from
 * the end: how many there are first, then that slice, reversed.
 */
async function newestFirst(page, signal) {
  const { total } = await getJson('/v1/studies?limit=0', signal);
  const end = Math.max(0, total - page * PAGE);
  const start = Math.max(0, end - PAGE);
  const slice = await getJson(`/v1/studies?limit=${end - start}&offset=${start}`, signal);
  return { studies: [...slice.studies].reverse(), total: slice.total };
}
