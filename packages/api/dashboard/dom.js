// Builds DOM nodes from data with textContent and properties only: no innerHTML, so study names,
// parameters and reasons can never become markup.

/**
 * h('a', { href: '#/x', class: 'link' }, 'text', child) → element.
 * Attributes are set with setAttribute (never on*); children are nodes or text.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) throw new Error(`event handlers go through addEventListener, not attribute ${k}`);
    if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A safe in-page link: the id goes through encodeURIComponent. */
export function studyHref(id) {
  return `#/studies/${encodeURIComponent(id)}`;
}

export function trialHref(id, n) {
  return `#/studies/${encodeURIComponent(id)}/trials/${encodeURIComponent(String(n))}`;
}
