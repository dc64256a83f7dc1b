// A password input for a credential, with a Show/Hide toggle: the Add key wizard's and the guided
// rotation's API key, secret key and passphrase fields. `data-secret` marks it for the tests that
// check secrets never outlive their dialog.

import type { KeyField } from '../api/types';
import { h, icon } from '../lib/dom';

export interface SecretField {
  input: HTMLInputElement;
  toggle: HTMLButtonElement;
  help: HTMLParagraphElement;
  row: HTMLDivElement;
}

const EYE = ['M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z', 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z'];

/** `errorEl` is the field's `[data-error-for]` element, whose id is `errorId`. */
export function secretField(
  id: string,
  name: KeyField,
  label: string,
  helpText: string,
  errorEl: HTMLElement,
  errorId = `error-${name}`,
): SecretField {
  const input = h('input', {
    id,
    name,
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'off',
    autocorrect: 'off',
    'data-secret': true,
    'aria-describedby': `${id}-help ${errorId}`,
  });
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'reveal',
      'aria-pressed': 'false',
      'aria-label': `Show ${label.toLowerCase()}`,
      'aria-controls': id,
      title: 'Show or hide what you pasted',
    },
    icon(EYE),
  );
  toggle.addEventListener('click', () => {
    const show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    toggle.setAttribute('aria-pressed', String(show));
    toggle.setAttribute('aria-label', `${show ? 'Hide' : 'Show'} ${label.toLowerCase()}`);
  });
  const help = h('p', { class: 'help', id: `${id}-help` }, helpText);
  const row = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('div', { class: 'input-with-button' }, input, toggle),
    help,
    errorEl,
  );
  return { input, toggle, help, row };
}

/** Masks a secret input again (after a step change, or before the dialog closes). */
export function hideSecret(f: SecretField): void {
  f.input.type = 'password';
  f.toggle.setAttribute('aria-pressed', 'false');
}
