// The code prompt every guarded action uses: one input (`#guard-code` unless told otherwise) for the
// 6-digit code from the authenticator app or a recovery code (`xxxx-xxxx-xxxx`). Rust checks it; this
// only trims it, refuses what cannot be a code, and shows Rust's `guard` / `guard_missing` errors
// under the field (`[data-error-for=code]`). Enter submits.

import type { IpcError } from '../api/types';
import { h } from '../lib/dom';

export interface CodeFieldOptions {
  id?: string;
  label?: string;
  help?: string;
  /** Only a 6-digit TOTP code (the enrolment confirmation), no recovery code. */
  digitsOnly?: boolean;
  /** Enter in the field. */
  onSubmit: () => void;
  /** Shown as "Set up 2FA" next to a `guard_missing` error. */
  onEnroll?: () => void;
}

export interface CodeField {
  readonly row: HTMLElement;
  readonly input: HTMLInputElement;
  /** The code to send, or null after showing why it cannot be one. */
  read(): string | null;
  /** Shows `guard` and `guard_missing` errors under the field; false for any other kind. */
  showError(err: IpcError): boolean;
  /** Shows a message under the field. */
  setError(message: string): void;
  clearError(): void;
  /** Empties the field (after use, or when its dialog closes). */
  clear(): void;
  focus(): void;
}

const TOTP = /^\d{6}$/;
/** Recovery codes: letters and digits in groups, e.g. `k3f9-2mxq-8d7a`, or one run of 8 or more. */
const RECOVERY = /^[A-Za-z0-9]{4,}(-[A-Za-z0-9]{4,})+$|^[A-Za-z0-9]{8,}$/;

/** The code as it is sent: whitespace removed; null if it is neither a TOTP code nor a recovery code. */
export function normalizeCode(raw: string, digitsOnly = false): string | null {
  const code = raw.replace(/\s+/g, '');
  if (TOTP.test(code)) return code;
  if (!digitsOnly && RECOVERY.test(code)) return code;
  return null;
}

export function codeField(opts: CodeFieldOptions): CodeField {
  const id = opts.id ?? 'guard-code';
  const digitsOnly = !!opts.digitsOnly;
  const input = h('input', {
    id,
    name: 'code',
    type: 'text',
    class: 'code-input',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    spellcheck: 'false',
    autocapitalize: 'off',
    autocorrect: 'off',
    maxlength: 40,
    placeholder: digitsOnly ? '123456' : '123456 or xxxx-xxxx-xxxx',
    'aria-describedby': `${id}-help ${id}-error`,
  });
  const error = h('div', { class: 'field-error', id: `${id}-error`, 'data-error-for': 'code', role: 'alert', hidden: true });
  const help = h(
    'p',
    { class: 'help', id: `${id}-help` },
    opts.help ??
      (digitsOnly
        ? 'The 6-digit code your authenticator app shows now.'
        : 'The 6-digit code from your authenticator app, or one of your recovery codes.'),
  );
  const row = h('div', { class: 'field code-field' }, h('label', { for: id }, opts.label ?? '2FA code'), input, help, error);

  // A 6-digit code gets the number pad; a recovery code (letters, dashes) the full keyboard.
  input.addEventListener('input', () => {
    input.setAttribute('inputmode', /^[\d\s]*$/.test(input.value) ? 'numeric' : 'text');
    if (!error.hidden) clearError();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.isComposing) {
      ev.preventDefault();
      opts.onSubmit();
    }
  });

  function setError(message: string, enroll = false): void {
    error.replaceChildren(h('span', {}, message));
    if (enroll && opts.onEnroll) {
      const btn = h('button', { type: 'button', class: 'btn btn-secondary btn-small guard-enroll' }, 'Set up 2FA');
      btn.addEventListener('click', () => opts.onEnroll?.());
      error.appendChild(btn);
    }
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
      const raw = input.value.trim();
      if (!raw) {
        setError(
          digitsOnly
            ? 'Enter the 6-digit code from your authenticator app.'
            : 'Enter the code from your authenticator app, or a recovery code.',
        );
        input.focus();
        return null;
      }
      const code = normalizeCode(raw, digitsOnly);
      if (!code) {
        setError(
          digitsOnly
            ? 'The code is the 6 digits your authenticator app shows.'
            : 'That is not a code: enter the 6 digits from your authenticator app, or a recovery code like xxxx-xxxx-xxxx.',
        );
        input.focus();
        return null;
      }
      clearError();
      return code;
    },
    showError(err) {
      if (err.kind !== 'guard' && err.kind !== 'guard_missing') return false;
      setError(err.message, err.kind === 'guard_missing');
      input.select();
      input.focus();
      return true;
    },
    setError: (m) => setError(m),
    clearError,
    clear() {
      input.value = '';
      input.setAttribute('inputmode', 'numeric');
    },
    focus: () => input.focus(),
  };
}
