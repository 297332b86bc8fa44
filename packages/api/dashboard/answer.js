import { h, fill, trialHref } from './dom.js';
import { num, param } from './format.js';

/**
 * The study's answer, at the top of its page: the verdict in one sentence (what to change and by
 * how much, or that the user's config is already near the best), baseline against best side by
 * side with the changed parameters, and the baseline's diagnosis (the best's without a baseline).
 */
export function renderAnswer(el, answer, study) {
  el.hidden = !answer;
  if (!answer) return;
  const metric = study.objective.metric;
  const b = answer.baseline;
  const best = answer.best;
  const changed = new Set(answer.changes.map((c) => c.param));
  const names = [...new Set([...Object.keys(b?.params ?? {}), ...Object.keys(best?.params ?? {})])];
  const cell = (params, name) =>
    h('td', { class: changed.has(name) ? 'changed' : undefined }, name in (params ?? {}) ? shown(params[name], name) : '–');
  // A changed value that rounds to the one it replaces is shown in full: 0.8 → 0.80004, not 0.8000 → 0.8000.
  const shown = (v, name) => {
    const other = [b?.params?.[name], best?.params?.[name]].find((o) => o !== v);
    return changed.has(name) && other !== undefined && param(other) === param(v) ? String(v) : param(v);
  };
  // The baseline is the best: one config, nothing to set side by side or to measure a margin on.
  const same = b && best && b.trial === best.trial;
  const table =
    b && best && !same
      ? h(
          'table',
          { class: 'grid answer-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, ''),
              h('th', {}, h('a', { href: trialHref(study.id, b.trial) }, `your config (trial ${b.trial})`)),
              h('th', {}, h('a', { href: trialHref(study.id, best.trial) }, `best (trial ${best.trial})`)),
            ),
          ),
          h(
            'tbody',
            {},
            h('tr', {}, h('th', {}, metric), h('td', {}, num(b.value)), h('td', {}, num(best.value))),
            ...names.map((n) => h('tr', {}, h('th', {}, n), cell(b.params, n), cell(best.params, n))),
          ),
        )
      : null;
  const subject = b
    ? { title: `Your config (trial ${b.trial}, ${b.state})`, d: b.diagnosis }
    : best && { title: `Best (trial ${best.trial})`, d: best.diagnosis };
  fill(
    el,
    h('h2', { id: 'answer-verdict' }, answer.verdict),
    answer.failures ? h('p', { class: 'reason failed', id: 'answer-failures' }, answer.failures) : null,
    answer.margin !== undefined && !same
      ? h(
          'p',
          { class: 'muted', id: 'answer-margin' },
          `margin ${answer.margin >= 0 ? '+' : ''}${num(answer.margin)} (positive: the best beats your config) · epoch-to-epoch noise ${answer.noise === null ? `not measurable (it needs curves of ${answer.noise_min_epochs} or more epochs)` : num(answer.noise)}`,
        )
      : null,
    table,
    subject
      ? h(
          'div',
          { class: 'answer-diagnosis', id: 'answer-diagnosis' },
          h('h3', {}, subject.title),
          h('p', {}, subject.d.summary),
          subject.d.evidence.length > 0 ? h('ul', {}, ...subject.d.evidence.map((e) => h('li', {}, e))) : null,
          subject.d.advice ? h('p', { class: 'advice' }, subject.d.advice) : null,
        )
      : null,
  );
}
