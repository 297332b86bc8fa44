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
  // The page cannot be shown: its first load failed.
  fail: (err) => showError(err),
  // An action or a refresh failed on a page that is shown (a stop clicked while the daemon is
  // down): said above the page, which is kept, and goes on updating once the daemon is back.
  notice: (err) => showNotice(err),
};

const notice = document.getElementById('notice');
let noticeTimer;

function showNotice(err) {
  if (err?.name === 'AbortError') return;
  if (err instanceof Unauthorized) return showError(err);
  notice.textContent = `error: ${err?.message ?? err} — the page is kept; try again once the daemon answers`;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, 10_000);
}

function route() {
  // A link may carry the token in the fragment, on first load or later.
  takeTokenFromFragment();
  current?.abort();
  current = new AbortController();
  destroyCharts();
  ctx.live(undefined);
  notice.hidden = true;
  const hash = location.hash.replace(/^#/, '') || '/';
  let parts;
  try {
    parts = hash.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    // A hand-typed address with a broken %-escape: said, not left at "loading…".
    showError(new Error(`the address #${hash} is not a page of this dashboard (a broken %-escape)`));
    return;
  }
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
