// The list's empty state: what Latchkey does with a key, and the button to add the first one.

import { listedNames } from '../api/exchanges';
import { h, icon } from '../lib/dom';

const KEY = ['M15 3a6 6 0 0 0-5.6 8.2L3 17.6V21h3.4v-2.2h2.2v-2.2h2.2l1.6-1.6A6 6 0 1 0 15 3z', 'M16.5 7.5h.01'];

export function renderEmptyState(handlers: { onAdd: () => void }): HTMLElement {
  const button = h('button', { type: 'button', id: 'add-first-key', class: 'btn btn-primary' }, 'Add your first key');
  button.addEventListener('click', handlers.onAdd);
  return h(
    'section',
    { id: 'empty-state', class: 'empty-state', 'aria-labelledby': 'empty-title' },
    icon(KEY, 'empty-icon'),
    h('h2', { id: 'empty-title' }, 'No keys yet — add your first exchange key'),
    h(
      'p',
      {},
      `Latchkey keeps each secret in your operating system’s keychain and shows only a masked hint here. ${listedNames()} keys are supported.`,
    ),
    button,
  );
}
