// A yes/no question in the app's own dialog style (never `window.confirm`, which WebKitGTK shows as
// a foreign window and tests cannot see): e.g. "Discard the key you typed?" over the wizard. The
// safe choice has focus; Escape and the safe button answer no.

import { h, type Child } from './dom';
import { openModal } from './modal';

export interface ConfirmOptions {
  id: string;
  title: string;
  body: Child[];
  /** The button that goes ahead. */
  confirmLabel: string;
  /** The safe button (focused). */
  cancelLabel: string;
  danger?: boolean;
}

/** Resolves true when the user chose `confirmLabel`. */
export function askConfirm(opts: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const keep = h('button', { type: 'button', id: `${opts.id}-cancel`, class: 'btn btn-primary' }, opts.cancelLabel);
    const go = h(
      'button',
      { type: 'button', id: `${opts.id}-confirm`, class: `btn ${opts.danger ? 'btn-danger' : 'btn-secondary'}` },
      opts.confirmLabel,
    );
    const modal = openModal(
      {
        id: opts.id,
        role: 'alertdialog',
        labelledBy: `${opts.id}-title`,
        describedBy: `${opts.id}-desc`,
        className: 'dialog-small',
        onEscape: () => finish(false),
      },
      h('h2', { id: `${opts.id}-title` }, opts.title),
      h('div', { id: `${opts.id}-desc`, class: 'dialog-body' }, ...opts.body),
      h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), go, keep),
    );
    function finish(answer: boolean): void {
      if (done) return;
      done = true;
      modal.close();
      resolve(answer);
    }
    keep.addEventListener('click', () => finish(false));
    go.addEventListener('click', () => finish(true));
    keep.focus();
  });
}
