// A small dialog that asks for a 2FA code and runs one guarded action with it: delete a key, turn 2FA
// off, retry a revoke, wipe a quarantined key. A wrong code (`guard`) or missing 2FA (`guard_missing`)
// is shown under the field and the dialog stays; any other error is shown above the buttons.
// For the revoke follow-ups while 2FA is not set up (`unguarded`), the user types REVOKE instead,
// which Rust accepts only then.

import { toIpcError } from '../api/commands';
import type { IpcError } from '../api/types';
import { h, type Child } from '../lib/dom';
import { openModal } from '../lib/modal';
import { codeField } from './code-field';
import { phraseField } from './phrase-field';

export interface AskCodeOptions<T> {
  /** Element ids, so that each guarded action keeps its own stable selectors. */
  ids?: { dialog?: string; title?: string; cancel?: string; confirm?: string };
  title: string;
  body: Child[];
  confirmLabel: string;
  cancelLabel?: string;
  busyLabel?: string;
  /** The red button (destructive actions). */
  danger?: boolean;
  /** Runs the action; `status` shows a line of progress in the dialog. */
  run: (code: string, status: (text: string) => void) => Promise<T>;
  /** 2FA is not set up and this is a revoke action: ask for the typed REVOKE instead of a code. */
  unguarded?: boolean;
  /** For `guard_missing`: closes this dialog, then opens enrolment. */
  onEnroll?: () => void;
  returnFocus?: () => HTMLElement | null;
}

/** Resolves with what `run` returned, or null if the user cancelled. */
export function askCode<T>(opts: AskCodeOptions<T>): Promise<T | null> {
  const ids = { dialog: 'code-dialog', title: 'code-dialog-title', cancel: 'code-cancel', confirm: 'code-confirm', ...opts.ids };
  return new Promise((resolve) => {
    let busy = false;
    let done = false;
    const field = opts.unguarded
      ? phraseField({ onSubmit: () => void submit() })
      : codeField({
          onSubmit: () => void submit(),
          onEnroll: opts.onEnroll
            ? () => {
                finish(null);
                opts.onEnroll?.();
              }
            : undefined,
        });
    const cancel = h('button', { type: 'button', id: ids.cancel, class: 'btn btn-secondary' }, opts.cancelLabel ?? 'Cancel');
    const confirm = h(
      'button',
      { type: 'button', id: ids.confirm, class: `btn ${opts.danger ? 'btn-danger' : 'btn-primary'}` },
      opts.confirmLabel,
    );
    const statusLine = h('p', { class: 'muted code-status', role: 'status', 'aria-live': 'polite' });
    const errorBox = h('p', { class: 'card-error dialog-error', role: 'alert', hidden: true });
    const modal = openModal(
      {
        id: ids.dialog,
        role: 'alertdialog',
        labelledBy: ids.title,
        describedBy: `${ids.dialog}-desc`,
        className: 'dialog-small',
        onEscape: () => {
          if (!busy) finish(null);
        },
        returnFocus: opts.returnFocus,
      },
      h('h2', { id: ids.title }, opts.title),
      h('div', { id: `${ids.dialog}-desc`, class: 'dialog-body' }, ...opts.body),
      field.row,
      statusLine,
      errorBox,
      h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), cancel, confirm),
    );

    function finish(result: T | null): void {
      if (done) return;
      done = true;
      field.clear();
      modal.close();
      resolve(result);
    }

    function setBusy(b: boolean): void {
      busy = b;
      confirm.disabled = b;
      cancel.disabled = b;
      field.input.readOnly = b;
      modal.dialog.setAttribute('aria-busy', String(b));
      if (b) confirm.replaceChildren(opts.busyLabel ?? 'Checking…');
      else confirm.replaceChildren(opts.confirmLabel);
    }

    async function submit(): Promise<void> {
      if (busy || done) return;
      errorBox.hidden = true;
      const code = field.read();
      if (!code) return;
      setBusy(true);
      statusLine.textContent = '';
      try {
        const result = await opts.run(code, (text) => (statusLine.textContent = text));
        finish(result);
      } catch (e) {
        const err: IpcError = toIpcError(e);
        setBusy(false);
        statusLine.textContent = '';
        if (!field.showError(err)) {
          errorBox.textContent = err.message;
          errorBox.hidden = false;
          field.clear();
          field.focus();
        }
      }
    }

    cancel.addEventListener('click', () => finish(null));
    confirm.addEventListener('click', () => void submit());
    field.focus();
  });
}
