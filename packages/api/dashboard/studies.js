import { getJson, Unauthorized } from './api.js';
import { fill, h, studyHref } from './dom.js';
import { FINISHED, num, studyState, when } from './format.js';

/** The list of studies, refreshed every few seconds; a failed refresh (the daemon restarting) is said and retried. */
export async function studiesPage(app, ctx, signal) {
  ctx.crumbs({ text: 'studies' });
  for (;;) {
    let studies;
    try {
      ({ studies } = await getJson('/v1/studies', signal));
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof Unauthorized) throw err;
      const note = document.getElementById('studies-down') ?? app.appendChild(h('p', { class: 'reason failed', id: 'studies-down' }));
      note.textContent = `cannot reach the daemon (${err.message}); retrying`;
      await new Promise((r) => setTimeout(r, 3000));
      if (signal.aborted) return;
      continue;
    }
    // Newest first: the study just submitted is at the top, not under hundreds of older ones.
    const rows = [...studies].reverse().map((s) => {
      const done = ['completed', 'stopped', 'failed'].reduce((n, k) => n + (s.counts[k] ?? 0), 0);
      const failed = s.counts.failed ?? 0;
      return h(
        'tr',
        {},
        h('td', {}, h('a', { href: studyHref(s.id) }, s.name)),
        h('td', { class: 'mono' }, s.id),
        h('td', {}, h('span', { class: `state ${s.state}` }, studyState(s.state, s.counts))),
        h('td', { class: 'num' }, `${done}/${s.budget.max_trials}${failed > 0 ? ` (${failed} failed)` : ''}`),
        h('td', { class: 'num' }, num(s.best)),
        h('td', {}, `${s.objective.direction} ${s.objective.metric}`),
        h('td', {}, when(s.createdAt)),
        h('td', { class: `reason ${s.state}` }, s.reason ?? ''),
      );
    });
    fill(
      app,
      h('h1', {}, 'Studies'),
      studies.length === 0
        ? h('p', { class: 'muted' }, 'No studies yet: sweepd submit examples/quickstart.yaml')
        : h(
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
    );
    const running = studies.some((s) => !FINISHED.has(s.state));
    await new Promise((r) => setTimeout(r, running ? 3000 : 10_000));
    if (signal.aborted) return;
  }
}
