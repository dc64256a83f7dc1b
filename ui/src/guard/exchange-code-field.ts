// The exchange's own 2FA code, for the exchanges that answer key calls with a challenge for it
// (Deribit's security keys). Hidden until the exchange asks (an `exchange_code_required` or
// `exchange_code_refused` error); then shown empty and in focus, and sent with the next try. Latchkey
// never stores the exchange's 2FA seed: the person types the code each time.

import type { IpcError } from '../api/types';
import { h } from '../lib/dom';

export interface ExchangeCodeField {
  readonly row: HTMLElement;
  readonly input: HTMLInputElement;
  /** Shows the field when `err` is the exchange asking for its code; false for any other error. */
  ask(err: IpcError | null, exchangeName: string): boolean;
  /** The code typed, or null while the exchange has not asked or nothing was typed. */
  read(): string | null;
}

export function exchangeCodeField(id: string, onSubmit: () => void): ExchangeCodeField {
  const input = h('input', {
    id,
    name: 'exchangeCode',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    maxlength: 8,
    'aria-describedby': `${id}-help`,
  });
  const label = h('label', { for: id }, 'The exchange’s own 2FA code');
  const row = h(
    'div',
    { class: 'field', id: `${id}-row`, hidden: true },
    label,
    input,
    h(
      'p',
      { class: 'help', id: `${id}-help` },
      'The 6 digits your authenticator app shows for this exchange now (not Latchkey’s). Latchkey never stores the exchange’s 2FA seed.',
    ),
  );
  input.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    onSubmit();
  });
  return {
    row,
    input,
    ask(err, exchangeName) {
      if (err?.code !== 'exchange_code_required' && err?.code !== 'exchange_code_refused') return false;
      label.textContent = `${exchangeName}’s own 2FA code`;
      row.hidden = false;
      input.value = '';
      input.focus();
      return true;
    },
    read() {
      const typed = input.value.trim();
      return row.hidden || typed === '' ? null : typed;
    },
  };
}
