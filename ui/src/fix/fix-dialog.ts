// A finding fixed in place: the IPs to bind (for "Bind to these IPs…"), one 2FA code, then Rust
// changes the key through its master's modify endpoint and inspects it again; the dialog says
// whether each finding is gone or why not.

import { fixKey, toIpcError } from '../api/commands';
import type { FixKeyResult, FixKind, KeyView } from '../api/types';
import { exchangeName } from '../api/exchanges';
import { codeField } from '../guard/code-field';
import { exchangeCodeField } from '../guard/exchange-code-field';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import { parseIps } from '../mint/mint-dialog';
import { FIX_LABELS } from './fix-buttons';

export interface FixDialogOptions {
  key: KeyView;
  kind: FixKind;
  guardEnrolled: boolean;
  fix?: typeof fixKey;
  onFixed: (result: FixKeyResult) => void;
  onClosed: () => void;
  returnFocus?: () => HTMLElement | null;
}

export function openFixDialog(opts: FixDialogOptions): void {
  const { key, kind } = opts;
  const fix = opts.fix ?? fixKey;
  let busy = false;
  const ips = h('textarea', {
    id: 'fix-ips',
    rows: 2,
    spellcheck: 'false',
    placeholder: 'e.g. 203.0.113.7 (the bot server’s address)',
  });
  const ipsRow = h('div', { class: 'field', hidden: kind !== 'bind_ips' }, h('label', { for: 'fix-ips' }, 'IP addresses'), ips);
  const code = codeField({ id: 'fix-code', onSubmit: () => void apply() });
  const exchangeCode = exchangeCodeField('fix-exchange-code', () => void apply());
  code.row.hidden = !opts.guardEnrolled;
  const errorBox = h('p', { class: 'card-error dialog-error', id: 'fix-error', role: 'alert', hidden: true });
  const result = h('div', { id: 'fix-result', class: 'edit-result', role: 'status', 'aria-live': 'polite', hidden: true });
  const cancel = h('button', { type: 'button', id: 'fix-cancel', class: 'btn btn-secondary' }, 'Cancel');
  const applyButton = h(
    'button',
    { type: 'button', id: 'fix-apply', class: 'btn btn-primary' },
    FIX_LABELS[kind].replace('…', ''),
  );
  const modal = openModal(
    {
      id: 'fix-dialog',
      className: 'dialog-edit',
      labelledBy: 'fix-title',
      onEscape: () => {
        if (!busy) close();
      },
      returnFocus: opts.returnFocus,
    },
    h('h2', { id: 'fix-title' }, `${FIX_LABELS[kind].replace('…', '')}: “${key.label}”`),
    h(
      'p',
      { class: 'muted' },
      'Latchkey changes the key through its master key, then asks the exchange again what the key may do.',
    ),
    h('div', { class: 'edit-body' }, ipsRow, exchangeCode.row, code.row, result, errorBox),
    h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), cancel, applyButton),
  );

  async function apply(): Promise<void> {
    if (busy) return;
    const typed = opts.guardEnrolled ? code.read() : null;
    if (opts.guardEnrolled && typed === null) return;
    busy = true;
    applyButton.disabled = true;
    errorBox.hidden = true;
    try {
      const input = { kind, ips: kind === 'bind_ips' ? parseIps(ips.value) : [] };
      const fixed = await fix(key.id, input, typed, exchangeCode.read());
      code.clear();
      result.hidden = false;
      const still = fixed.stillThere.map((s) => h('p', { class: 'card-error' }, `Still there: ${s.finding.message} ${s.why}`));
      result.replaceChildren(
        h(
          'p',
          {},
          fixed.gone.length
            ? `Fixed: the exchange confirms the change (${fixed.gone.length} finding${fixed.gone.length === 1 ? '' : 's'} gone).`
            : 'Changed at the exchange.',
        ),
        ...still,
      );
      ipsRow.hidden = true;
      exchangeCode.row.hidden = true;
      code.row.hidden = true;
      applyButton.hidden = true;
      cancel.textContent = 'Done';
      opts.onFixed(fixed);
    } catch (e) {
      const err = toIpcError(e);
      exchangeCode.ask(err, exchangeName(key.exchange));
      if (!code.showError(err)) {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
      }
      applyButton.disabled = false;
    } finally {
      busy = false;
    }
  }

  function close(): void {
    code.clear();
    modal.close();
    opts.onClosed();
  }

  cancel.addEventListener('click', () => {
    if (!busy) close();
  });
  applyButton.addEventListener('click', () => void apply());
  (kind === 'bind_ips' ? ips : opts.guardEnrolled ? code.input : applyButton).focus();
}
