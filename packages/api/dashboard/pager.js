import { fill, h } from './dom.js';

/**
 * First / prev / "rows 51–100 of 120" / next / last into `el`, hidden while everything fits on one
 * page. `go(page)` is called with the page a button asks for; ids are `${idPrefix}-first`, `-prev`,
 * `-info`, `-next`, `-last`, so a page can hold more than one pager.
 */
export function renderPager(el, { page, total, size, noun, idPrefix }, go) {
  const pages = Math.max(1, Math.ceil(total / size));
  const button = (text, to, which) => {
    const b = h('button', { type: 'button', id: `${idPrefix}-${which}` }, text);
    b.disabled = to < 0 || to >= pages || to === page;
    b.addEventListener('click', () => go(to));
    return b;
  };
  el.hidden = pages <= 1;
  const first = Math.min(total, page * size + 1);
  const last = Math.min(total, (page + 1) * size);
  fill(
    el,
    button('« first', 0, 'first'),
    button('‹ prev', page - 1, 'prev'),
    h('span', { class: 'muted', id: `${idPrefix}-info` }, ` ${noun} ${first}–${last} of ${total.toLocaleString('en')} `),
    button('next ›', page + 1, 'next'),
    button('last »', pages - 1, 'last'),
  );
}
