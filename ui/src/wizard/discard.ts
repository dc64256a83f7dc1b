// Cancel and Escape ask before throwing away typed credentials (`#discard-dialog`): the exchange
// shows a secret only once, when the key is created.

import { askConfirm } from '../lib/confirm';
import { h } from '../lib/dom';

/** True when the user chose to throw the typed credentials away. */
export function askDiscard(): Promise<boolean> {
  return askConfirm({
    id: 'discard-dialog',
    title: 'Discard the key you typed?',
    body: [
      h(
        'p',
        {},
        'The credentials you typed are not saved yet. Closing the wizard throws them away, and the exchange shows a secret only once, when the key is created.',
      ),
    ],
    confirmLabel: 'Discard',
    cancelLabel: 'Keep editing',
    danger: true,
  });
}
