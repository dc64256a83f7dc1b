// The typed confirmation that stands in for a 2FA code while 2FA is not set up: the user types
// REVOKE (`#guard-phrase`). It has the code field's shape, so a revoke dialog uses one or the other;
// Rust decides what it accepts (the phrase only while 2FA is off) and its refusals show here.

import type { IpcError } from '../api/types';
import { h } from '../lib/dom';
import type { CodeField } from './code-field';
import { REVOKE_PHRASE } from './guarded';

export interface PhraseFieldOptions {
  id?: string;
  /** Enter in the field. */
  onSubmit: () => void;
}

export function phraseField(opts: PhraseFieldOptions): CodeField {
  const id = opts.id ?? 'guard-phrase';
  const input = h('input', {
    id,
    name: 'confirmation',
    type: 'text',
    class: 'code-input phrase-input',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'characters',
    autocorrect: 'off',
    maxlength: 40,
    placeholder: REVOKE_PHRASE,
    'aria-describedby': `${id}-help ${id}-error`,
  });
  const error = h('div', { class: 'field-error', id: `${id}-error`, 'data-error-for': 'code', role: 'alert', hidden: true });
  const help = h(
    'p',
    { class: 'help', id: `${id}-help` },
    `2FA is not set up, so this asks you to type ${REVOKE_PHRASE} (in capitals) instead of a code.`,
  );
  const row = h(
    'div',
    { class: 'field code-field phrase-field' },
    h('label', { for: id }, `Type ${REVOKE_PHRASE} to confirm`),
    input,
    help,
    error,
  );

  input.addEventListener('input', () => {
    if (!error.hidden) clearError();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.isComposing) {
      ev.preventDefault();
      opts.onSubmit();
    }
  });

  function setError(message: string): void {
    error.replaceChildren(h('span', {}, message));
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
  }

  function clearError(): void {
    error.replaceChildren();
    error.hidden = true;
    input.removeAttribute('aria-invalid');
  }

  return {
    row,
    input,
    read() {
      const typed = input.value.trim();
      if (typed !== REVOKE_PHRASE) {
        setError(`Type ${REVOKE_PHRASE} exactly, in capitals, to go ahead.`);
        input.focus();
        return null;
      }
      clearError();
      return typed;
    },
    showError(err: IpcError) {
      if (err.kind !== 'guard' && err.kind !== 'guard_missing') return false;
      setError(err.message);
      input.select();
      input.focus();
      return true;
    },
    setError,
    clearError,
    clear() {
      input.value = '';
    },
    focus: () => input.focus(),
  };
}
