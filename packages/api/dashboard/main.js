// The dashboard: a hash router over three pages. Each page gets an AbortSignal that fires when
// the user navigates away, which ends its live stream; its charts are destroyed with it.
import { setToken, takeTokenFromFragment, Unauthorized } from './api.js';
import { destroyCharts } from './charts.js';
import { fill, h } from './dom.js';
import { studiesPage } from './studies.js';
import { studyPage } from './study.js';
import { trialPage } from './trial.js';

const app = document.getElementById('app');
const crumbs = document.getElementById('crumbs');
const live = document.getElementById('live');
const tokenForm = document.getElementById('token-form');
let current;

const ctx = {
  crumbs: (...items) =>
    fill(
      crumbs,
      items.map((it, i) => [i ? ' / ' : '', it.href ? h('a', { href: it.href }, it.text) : h('span', {}, it.text)]),
    ),
  live: (state) => {
    live.hidden = state === undefined;
    // undefined: no stream, or it ended with the study's final table.
    live.textContent = state === 'live' ? '● live' : state === 'down' ? '○ reconnecting' : '';
    live.className = `live ${state ?? ''}`;
  },
  fail: (err) => showError(err),
};

function route() {
  // A link may carry the token in the fragment, on first load or later.
  takeTokenFromFragment();
  current?.abort();
  current = new AbortController();
  destroyCharts();
  ctx.live(undefined);
  const hash = location.hash.replace(/^#/, '') || '/';
  const parts = hash.split('/').filter(Boolean).map(decodeURIComponent);
  fill(app, h('p', { class: 'muted' }, 'loading…'));
  let page;
  if (parts[0] === 'studies' && parts[1] && parts[2] === 'trials' && parts[3] !== undefined)
    page = trialPage(app, ctx, parts[1], parts[3], current.signal);
  else if (parts[0] === 'studies' && parts[1]) page = studyPage(app, ctx, parts[1], current.signal);
  else page = studiesPage(app, ctx, current.signal);
  page.catch(showError);
}

function showError(err) {
  if (err?.name === 'AbortError') return;
  if (err instanceof Unauthorized) {
    tokenForm.hidden = false;
    fill(app, h('p', { class: 'error' }, err.message));
    return;
  }
  fill(app, h('p', { class: 'error' }, `error: ${err?.message ?? err}`));
}

tokenForm.addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(document.getElementById('token-input').value);
  tokenForm.hidden = true;
  route();
});

window.addEventListener('hashchange', route);
route();
