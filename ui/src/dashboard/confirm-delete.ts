// "Delete this key?" Deleting is guarded: the dialog asks for a 2FA code and sends it with the id;
// Rust checks it. A wrong code keeps the dialog open with the error under the field.

import type { KeyRecord } from '../api/types';
import { askCode } from '../guard/ask-code';
import { h } from '../lib/dom';
import { exchangeName } from './format';

export interface ConfirmDeleteOptions {
  /** Sends `delete_key {id, code}`. */
  remove: (code: string) => Promise<void>;
  onEnroll?: () => void;
  returnFocus?: () => HTMLElement | null;
}

/** True once the key is deleted; false if the user kept it. */
export async function confirmDelete(key: KeyRecord, opts: ConfirmDeleteOptions): Promise<boolean> {
  const result = await askCode({
    ids: { dialog: 'delete-dialog', title: 'delete-title', cancel: 'cancel-delete', confirm: 'confirm-delete' },
    title: `Delete “${key.label}”?`,
    body: [
      h(
        'p',
        {},
        `This removes the ${exchangeName(key.exchange)} key `,
        h('code', {}, key.keyHint),
        ' and its secret from your keychain.',
      ),
      key.status === 'revoked'
        ? null
        : h(
            'p',
            { class: 'muted' },
            'It does not revoke the key on the exchange: use Emergency revoke, or the exchange’s API page, if the key should stop working.',
          ),
    ],
    confirmLabel: 'Delete key',
    cancelLabel: 'Keep key',
    busyLabel: 'Deleting…',
    danger: true,
    run: async (code) => {
      await opts.remove(code);
      return true;
    },
    onEnroll: opts.onEnroll,
    returnFocus: opts.returnFocus,
  });
  return result === true;
}
