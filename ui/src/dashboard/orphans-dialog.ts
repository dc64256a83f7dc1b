// "Keys in your keychain that Latchkey does not list": keychain items of Latchkey's namespace with no
// row (a crash between the keychain write and the row, or a database moved aside). Shown at start;
// each item is restored to the list (Rust asks its exchange about it) or deleted for good (with a
// 2FA code when 2FA is set up; Rust checks it). Items that do not record their exchange ask for it.

import { deleteOrphan, restoreOrphan } from '../api/commands';
import { EXCHANGES } from '../api/exchanges';
import { type Environment, type Exchange, type IpcError, type KeyView, type Orphan } from '../api/types';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import { environmentLabel, exchangeName } from './format';

export interface OrphansDialogOptions {
  orphans: Orphan[];
  /** 2FA is set up: deleting asks for a code. */
  guarded: boolean;
  onRestored: (key: KeyView) => void;
  onClosed: () => void;
  returnFocus?: () => HTMLElement | null;
}

export function openOrphansDialog(opts: OrphansDialogOptions): void {
  const later = h('button', { type: 'button', id: 'orphans-later', class: 'btn btn-secondary' }, 'Decide later');
  const list = h('ul', { class: 'orphan-list' }, ...opts.orphans.map((o) => renderItem(o, opts)));
  const modal = openModal(
    {
      id: 'orphans-dialog',
      labelledBy: 'orphans-title',
      describedBy: 'orphans-desc',
      onEscape: () => close(),
      returnFocus: opts.returnFocus,
    },
    h(
      'h2',
      { id: 'orphans-title' },
      opts.orphans.length === 1
        ? 'A key in your keychain is not on the list'
        : `${opts.orphans.length} keys in your keychain are not on the list`,
    ),
    h(
      'div',
      { id: 'orphans-desc', class: 'dialog-body' },
      h(
        'p',
        {},
        'Latchkey found keychain items of its own that no key on the list describes, probably after a crash or a database that was moved aside. No list shows them and Emergency revoke cannot reach them.',
      ),
      h(
        'p',
        { class: 'muted' },
        'Restore an item to see and revoke its key again (Latchkey asks the exchange what the key may do), or delete it if the key is gone.',
      ),
    ),
    list,
    h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), later),
  );
  later.addEventListener('click', () => close());
  list.querySelector<HTMLElement>('button')?.focus();

  function close(): void {
    modal.close();
    opts.onClosed();
  }
}

function describe(o: Orphan): string {
  const parts = [o.exchange ? exchangeName(o.exchange) : 'exchange not recorded'];
  if (o.environment) parts.push(environmentLabel(o.environment) || 'Live');
  return parts.join(' · ');
}

function renderItem(o: Orphan, opts: OrphansDialogOptions): HTMLElement {
  const titleId = `orphan-${o.id}`;
  const status = h('p', { class: 'muted orphan-status', role: 'status', 'aria-live': 'polite' });
  const error = h('p', { class: 'card-error', role: 'alert', hidden: true });
  const label = h('input', {
    type: 'text',
    class: 'orphan-label',
    value: o.label ?? '',
    placeholder: 'Label',
    'aria-label': 'Label for the restored key',
    autocomplete: 'off',
  });
  // Only asked when the item does not say.
  const exchange = o.exchange
    ? null
    : h(
        'select',
        { class: 'orphan-exchange', 'aria-label': 'Exchange of this key' },
        h('option', { value: '' }, 'Choose the exchange…'),
        ...EXCHANGES.map((e) => h('option', { value: e }, exchangeName(e))),
      );
  const environment = o.environment
    ? null
    : h(
        'select',
        { class: 'orphan-environment', 'aria-label': 'Environment of this key' },
        h('option', { value: 'live' }, 'Live'),
        h('option', { value: 'demo' }, 'Demo / testnet'),
      );
  const restore = h('button', { type: 'button', class: 'btn btn-primary btn-small orphan-restore' }, 'Restore to the list');
  const del = h('button', { type: 'button', class: 'btn btn-danger-quiet btn-small orphan-delete' }, 'Delete…');
  const code = h('input', {
    type: 'text',
    class: 'orphan-code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    placeholder: '2FA code',
    'aria-label': '2FA code to delete this item',
    hidden: true,
  });
  const confirm = h(
    'button',
    { type: 'button', class: 'btn btn-danger btn-small orphan-confirm-delete', hidden: true },
    'Delete for good',
  );
  const item = h(
    'li',
    { class: 'orphan-item', 'data-id': o.id, 'aria-labelledby': titleId },
    h(
      'p',
      { id: titleId },
      h('strong', {}, o.label ?? 'Unnamed key'),
      ' ',
      o.keyHint ? h('code', { class: 'key-hint' }, o.keyHint) : h('span', { class: 'muted' }, '(secret unreadable)'),
      h('span', { class: 'muted' }, ` — ${describe(o)}`),
    ),
    h('div', { class: 'orphan-actions' }, label, exchange, environment, restore, del, code, confirm),
    status,
    error,
  );

  const busy = (b: boolean): void => {
    for (const el of [restore, del, confirm, label, code, exchange, environment]) if (el) el.toggleAttribute('disabled', b);
    item.setAttribute('aria-busy', String(b));
  };
  const fail = (e: unknown): void => {
    error.textContent = (e as IpcError).message;
    error.hidden = false;
    status.textContent = '';
    busy(false);
  };
  const done = (state: 'restored' | 'deleted', text: string): void => {
    item.setAttribute('data-state', state);
    status.textContent = text;
    for (const el of [restore, del, confirm, label, code, exchange, environment]) el?.setAttribute('hidden', '');
  };

  restore.addEventListener('click', () => {
    const chosen = exchange?.value as Exchange | '' | undefined;
    if (exchange && !chosen) {
      error.textContent = 'This keychain item does not say which exchange its key belongs to: choose the exchange first.';
      error.hidden = false;
      exchange.focus();
      return;
    }
    error.hidden = true;
    busy(true);
    status.textContent = 'Restoring and checking the key with its exchange…';
    const input: { exchange?: Exchange; environment?: Environment; label?: string } = {};
    if (chosen) input.exchange = chosen;
    if (environment) input.environment = environment.value === 'demo' ? { kind: 'demo' } : { kind: 'live' };
    if (label.value.trim()) input.label = label.value.trim();
    restoreOrphan(o.id, input).then((r) => {
      done('restored', r.warning ? `Restored as “${r.key.label}”, not verified: ${r.warning}` : `Restored as “${r.key.label}”.`);
      opts.onRestored(r.key);
    }, fail);
  });

  const runDelete = (): void => {
    const typed = code.value.replace(/\s+/g, '');
    if (opts.guarded && !typed) {
      code.focus();
      return;
    }
    error.hidden = true;
    busy(true);
    deleteOrphan(o.id, opts.guarded ? typed : null).then(
      () => {
        code.value = '';
        done('deleted', 'Deleted from the keychain.');
      },
      (e) => {
        code.value = '';
        fail(e);
      },
    );
  };
  del.addEventListener('click', () => {
    del.hidden = true;
    confirm.hidden = false;
    if (opts.guarded) {
      code.hidden = false;
      code.focus();
    } else {
      confirm.focus();
    }
  });
  confirm.addEventListener('click', runDelete);
  code.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') runDelete();
  });
  return item;
}
