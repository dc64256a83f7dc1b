// The guarded follow-ups of a revoke, offered on a quarantined or still-live key's card: retry the
// revoke, wipe the secret locally, or prove a key deleted on the website. Each is one code dialog
// (or the typed REVOKE without 2FA) whose answer is a revoke report; only the words differ.

import { confirmDeleted, retryRevoke, wipeLocally } from '../api/commands';
import type { KeyView, RevokeReport } from '../api/types';
import { exchangeName } from '../dashboard/format';
import type { AskCodeOptions } from '../guard/ask-code';
import { h } from '../lib/dom';
import { stageText } from './texts';

export type FollowUp = 'retry' | 'wipe' | 'confirmDeleted';

/** The card button each follow-up returns focus to. */
export const FOLLOW_UP_BUTTON: Record<FollowUp, string> = {
  retry: 'retry-revoke',
  wipe: 'wipe-locally',
  confirmDeleted: 'confirm-deleted',
};

const IDS: Record<FollowUp, string> = { retry: 'retry', wipe: 'wipe', confirmDeleted: 'confirm-deleted' };

type Dialog = Omit<AskCodeOptions<RevokeReport>, 'unguarded' | 'onEnroll' | 'returnFocus'>;

/** The dialog for `action` on `key`: its words, its button and the command it runs. */
export function followUpDialog(action: FollowUp, key: KeyView): Dialog {
  const id = IDS[action];
  const ids = { dialog: `${id}-dialog`, title: `${id}-title`, cancel: `${id}-cancel`, confirm: `${id}-confirm` };
  const ex = exchangeName(key.exchange);
  const hint = h('code', {}, key.keyHint);
  switch (action) {
    case 'retry':
      return {
        ids,
        title: `Retry revoking “${key.label}”?`,
        body: [
          h(
            'p',
            {},
            `Latchkey asks ${ex} again to revoke the key `,
            hint,
            '. If it confirms, the secret is wiped from your keychain.',
          ),
        ],
        confirmLabel: 'Retry revoke',
        busyLabel: 'Revoking…',
        danger: true,
        run: (code, status) =>
          retryRevoke(code, key.id, (p) => status(`${stageText(p.stage, key.exchange)}${p.message ? ` — ${p.message}` : ''}`)),
      };
    case 'wipe': {
      const stillLive = key.status === 'still_live';
      return {
        ids,
        title: stillLive ? `Wipe the secret of “${key.label}” here now?` : `Wipe “${key.label}” locally?`,
        body: [
          h(
            'p',
            {},
            `${ex} has not confirmed that the key `,
            hint,
            ' is revoked. Wiping removes its secret from your keychain, so Latchkey can no longer revoke it or prove it gone.',
          ),
          h(
            'p',
            { class: 'muted' },
            'The key keeps working at the exchange and stays marked “Still live” until you delete it on the website.',
          ),
        ],
        confirmLabel: stillLive ? 'Wipe the secret here now' : 'Wipe locally anyway',
        busyLabel: 'Wiping…',
        danger: true,
        run: (code) => wipeLocally(code, key.id),
      };
    }
    case 'confirmDeleted':
      return {
        ids,
        title: `Confirm “${key.label}” is deleted at ${ex}?`,
        body: [
          h(
            'p',
            {},
            'Latchkey signs one harmless call with the key ',
            hint,
            ` itself. Only if ${ex} refuses it as an unknown key is it proved gone: then its secret is wiped and the key shows as revoked.`,
          ),
          h('p', { class: 'muted' }, 'If the key still works, nothing changes and you are told why.'),
        ],
        confirmLabel: 'Prove and wipe',
        busyLabel: 'Checking…',
        danger: false,
        run: (code) => confirmDeleted(code, key.id),
      };
  }
}
