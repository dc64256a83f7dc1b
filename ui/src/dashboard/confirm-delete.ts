// "Delete this key?" A plain confirmation for now; the 2FA guard will sit in Rust behind it later.

import type { KeyRecord } from '../api/types';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import { exchangeName } from './format';

export function confirmDelete(key: KeyRecord, returnFocus?: () => HTMLElement | null): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', id: 'cancel-delete', class: 'btn btn-secondary' }, 'Keep key');
    const confirm = h('button', { type: 'button', id: 'confirm-delete', class: 'btn btn-danger' }, 'Delete key');
    const modal = openModal(
      { id: 'delete-dialog', role: 'alertdialog', labelledBy: 'delete-title', describedBy: 'delete-desc', className: 'dialog-small', onEscape: () => done(false), returnFocus },
      h('h2', { id: 'delete-title' }, `Delete “${key.label}”?`),
      h('div', { id: 'delete-desc' },
        h('p', {}, `This removes the ${exchangeName(key.exchange)} key `, h('code', {}, key.keyHint), ' and its secret from your keychain.'),
        h('p', { class: 'muted' }, 'It does not revoke the key on the exchange: do that on the exchange’s API page if the key should stop working.'),
      ),
      h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), cancel, confirm),
    );
    function done(ok: boolean): void {
      modal.close();
      resolve(ok);
    }
    cancel.addEventListener('click', () => done(false));
    confirm.addEventListener('click', () => done(true));
    // The safe choice has focus, so a stray Enter keeps the key.
    cancel.focus();
  });
}
