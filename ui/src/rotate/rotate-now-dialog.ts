// "Rotate…" on a key whose master Latchkey holds: no credentials to paste. One 2FA code, then Rust
// runs the automatic rotation at once (create the replacement through the master, verify it, hand
// it to the bots, delete the old key and prove it dead) and the dialog says how each step ended.

import { rotateNow, toIpcError } from '../api/commands';
import type { AutoRotated, KeyView } from '../api/types';
import { codeField } from '../guard/code-field';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import { exchangeName } from '../dashboard/format';

export interface RotateNowOptions {
  key: KeyView;
  /** The master's label, for the explanation. */
  masterLabel: string | null;
  rotate?: typeof rotateNow;
  onRotated: (result: AutoRotated) => void;
  onClosed: (rotated: boolean) => void;
  /** For `guard_missing` under the code field: closes this dialog, then opens enrolment. */
  onEnroll?: () => void;
  returnFocus?: () => HTMLElement | null;
}

/** What the report says about the one key, in words. */
export function outcomeText(result: AutoRotated): { ok: boolean; text: string } {
  const line = result.report.keys[0];
  if (!line) return { ok: false, text: 'The rotation did not start: try again.' };
  switch (line.result.result) {
    case 'rotated': {
      const old =
        line.result.oldKey === 'revoked'
          ? 'the old key is deleted and the exchange refuses it'
          : `the old key is ${line.result.oldKey.replace('_', ' ')}: see its card`;
      return { ok: line.result.oldKey === 'revoked', text: `Rotated: the new key is ${line.result.newHint}; ${old}.` };
    }
    case 'failed':
      return { ok: false, text: `Not rotated: ${line.result.error} The old key stays in use.` };
    case 'pending':
      return {
        ok: false,
        text: 'Not finished: Latchkey finishes it the next time it starts. The old key stays in use until then.',
      };
  }
  return { ok: false, text: 'Latchkey could not read how the rotation ended: see the key’s card.' };
}

export function openRotateNowDialog(opts: RotateNowOptions): void {
  const { key } = opts;
  const rotate = opts.rotate ?? rotateNow;
  let busy = false;
  let rotated = false;
  const code = codeField({
    id: 'rotate-now-code',
    onSubmit: () => void run(),
    onEnroll: opts.onEnroll
      ? () => {
          close();
          opts.onEnroll?.();
        }
      : undefined,
  });
  const errorBox = h('p', { class: 'card-error dialog-error', id: 'rotate-now-error', role: 'alert', hidden: true });
  const result = h('div', { id: 'rotate-now-result', class: 'edit-result', role: 'status', 'aria-live': 'polite', hidden: true });
  const cancel = h('button', { type: 'button', id: 'rotate-now-cancel', class: 'btn btn-secondary' }, 'Cancel');
  const go = h('button', { type: 'button', id: 'rotate-now-go', class: 'btn btn-primary' }, 'Rotate now');
  const master = opts.masterLabel ? `its master key “${opts.masterLabel}”` : 'its master key';
  const modal = openModal(
    {
      id: 'rotate-now-dialog',
      className: 'dialog-edit',
      labelledBy: 'rotate-now-title',
      describedBy: 'rotate-now-desc',
      onEscape: () => {
        if (!busy) close();
      },
      returnFocus: opts.returnFocus,
    },
    h('h2', { id: 'rotate-now-title' }, `Rotate “${key.label}” now`),
    h(
      'p',
      { id: 'rotate-now-desc', class: 'muted' },
      `Latchkey creates the replacement at ${exchangeName(key.exchange)} through ${master}, with the same permissions and IP whitelist, checks it, hands it to the bots that use this key, then deletes the old key and proves it dead. You never see or copy the new secret.`,
    ),
    h('div', { class: 'edit-body' }, code.row, result, errorBox),
    h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), cancel, go),
  );

  async function run(): Promise<void> {
    if (busy) return;
    const typed = code.read();
    if (typed === null) return;
    busy = true;
    go.disabled = true;
    cancel.disabled = true;
    errorBox.hidden = true;
    go.replaceChildren('Rotating…');
    try {
      const done = await rotate(key.id, typed);
      code.clear();
      const outcome = outcomeText(done);
      rotated = done.key !== null;
      result.className = `edit-result edit-result-${outcome.ok ? 'ok' : 'warn'}`;
      result.replaceChildren(h('p', {}, outcome.text));
      result.hidden = false;
      code.row.hidden = true;
      go.hidden = true;
      cancel.replaceChildren('Close');
      opts.onRotated(done);
    } catch (e) {
      const err = toIpcError(e);
      if (!code.showError(err)) {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
      }
      go.disabled = false;
      go.replaceChildren('Rotate now');
    } finally {
      busy = false;
      cancel.disabled = false;
    }
  }

  function close(): void {
    code.clear();
    modal.close();
    opts.onClosed(rotated);
  }

  cancel.addEventListener('click', () => {
    if (!busy) close();
  });
  go.addEventListener('click', () => void run());
  code.input.focus();
}
