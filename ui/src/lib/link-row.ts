// A URL as text with a "Copy link" button: links never navigate inside the web view.

import { h } from './dom';

export function linkRow(url: string): HTMLElement {
  const clip = typeof navigator !== 'undefined' ? navigator.clipboard : undefined;
  const copy = h(
    'button',
    { type: 'button', class: 'btn btn-quiet btn-small copy-link', 'aria-label': `Copy link ${url}` },
    'Copy link',
  );
  copy.hidden = !clip?.writeText;
  copy.addEventListener('click', () => {
    void clip?.writeText(url).then(
      () => copy.replaceChildren('Copied'),
      () => copy.replaceChildren('Copy failed'),
    );
  });
  return h('div', { class: 'link-row' }, h('code', { class: 'link-url' }, url), copy);
}
