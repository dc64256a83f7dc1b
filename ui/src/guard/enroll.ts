// 2FA enrolment (`#enroll-dialog`): [a current code, when re-enrolling] → QR code and the secret for
// manual entry → the first code from the app → the 10 recovery codes, shown once. The codes live only
// in this dialog's DOM and are gone when it closes; nothing fetches them again.
//
// A begun setup is dropped in Rust (`guard_cancel_enrollment`) when the dialog closes without a
// confirmed secret (Cancel, Escape) and when the window closes, so no begun secret waits for guesses.
// When the keychain still holds a 2FA secret the database forgot, the dialog asks for a code from it,
// or for the explicit choice to destroy it.
//
// The same flow runs as the Add-key wizard's last step on first use (`runEnrollment` in a host the
// wizard gives it, without a Cancel: leaving it there is the wizard's explicit "skip 2FA" choice).
//
// The security dialog is ./security-dialog (re-exported here: one chunk for the 2FA dialogs).

import { beginEnrollment, cancelEnrollment, confirmEnrollment, toIpcError } from '../api/commands';
import type { Enrollment, IpcError } from '../api/types';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import { codeField } from './code-field';
import { renderRecoveryCodes } from './recovery-codes';
import { renderQr } from './qr';

export interface EnrollOptions {
  /** 2FA is on already: a current code is needed before a new secret is made. */
  reenroll: boolean;
  returnFocus?: () => HTMLElement | null;
  /** Called once the dialog is gone; `enrolled` is true when a new secret was confirmed. */
  onClosed: (enrolled: boolean) => void;
}

type Phase = 'verify' | 'old-seed' | 'loading' | 'scan' | 'codes' | 'failed';

/** Refusals after which the begun setup is gone in Rust: only starting again helps. */
const SETUP_GONE = ['enrollment_tries_exhausted', 'enrollment_expired', 'enrollment_stale', 'no_pending_enrollment'];

export function setupGone(err: IpcError): boolean {
  return err.kind === 'guard' && SETUP_GONE.includes(err.code ?? '');
}

/** The secret in groups of four, the way authenticator apps show it. */
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

/** Where the flow draws itself: a dialog of its own, or a step of the wizard. */
export interface EnrollHost {
  /** Gets `data-phase`. */
  root: HTMLElement;
  title: HTMLElement;
  body: HTMLElement;
  errorBox: HTMLElement;
  footer: HTMLElement;
  /** The flow's own Cancel button (a dialog); without it only finishing, or the host, ends it. */
  cancellable: boolean;
  /** Shown before the flow's buttons until 2FA is on (the wizard's "Skip 2FA for now"). */
  leading?: () => HTMLElement[];
  /** Removes what the host shows, once the flow is over. */
  dispose: () => void;
}

export interface EnrollFlow {
  close: () => void;
  /** Escape: leaves unless busy or showing the recovery codes. In a host without Cancel, false. */
  escape: () => boolean;
}

export function openEnrollment(opts: EnrollOptions): { close: () => void } {
  const title = h(
    'h2',
    { id: 'enroll-title' },
    opts.reenroll ? 'Re-enrol two-factor authentication' : 'Set up two-factor authentication',
  );
  const body = h('div', { class: 'enroll-body', 'aria-live': 'polite' });
  const errorBox = h('p', { class: 'card-error dialog-error', role: 'alert', hidden: true });
  const footer = h('div', { class: 'dialog-footer' });
  let flow: EnrollFlow | null = null;
  const modal = openModal(
    {
      id: 'enroll-dialog',
      labelledBy: 'enroll-title',
      className: 'dialog-enroll',
      onEscape: () => void flow?.escape(),
      returnFocus: opts.returnFocus,
      onWindowClose: () => flow?.close(),
    },
    title,
    body,
    errorBox,
    footer,
  );
  flow = runEnrollment(
    { root: modal.dialog, title, body, errorBox, footer, cancellable: true, dispose: () => modal.close() },
    opts,
  );
  return { close: () => flow?.close() };
}

/** The enrolment flow in `host`: [current code] → QR and secret → first code → recovery codes. */
export function runEnrollment(host: EnrollHost, opts: EnrollOptions): EnrollFlow {
  let phase: Phase = opts.reenroll ? 'verify' : 'loading';
  let busy = false;
  let enrolled = false;
  let closed = false;
  const { title, body, errorBox, footer } = host;
  const cancel = h('button', { type: 'button', id: 'enroll-cancel', class: 'btn btn-secondary' }, 'Cancel');
  host.root.setAttribute('data-phase', phase);
  cancel.addEventListener('click', () => close());

  function setPhase(p: Phase): void {
    phase = p;
    host.root.setAttribute('data-phase', p);
  }

  function escape(): boolean {
    // The recovery codes are on screen only once: leaving needs the deliberate "I saved them".
    if (busy || phase === 'codes' || !host.cancellable) return false;
    close();
    return true;
  }

  /** Tells Rust to forget a begun, unconfirmed setup. Harmless when there is none. */
  function dropBegun(): void {
    if (enrolled) return;
    cancelEnrollment().catch(() => undefined);
  }

  function close(): void {
    if (closed) return;
    closed = true;
    dropBegun();
    body.replaceChildren();
    host.dispose();
    opts.onClosed(enrolled);
  }

  function showError(message: string | null): void {
    errorBox.textContent = message ?? '';
    errorBox.hidden = !message;
  }

  function footerButtons(...buttons: HTMLElement[]): void {
    const shown = buttons.filter((b) => b !== cancel || host.cancellable);
    const leading = enrolled ? [] : (host.leading?.() ?? []);
    footer.replaceChildren(...leading, h('span', { class: 'spacer' }), ...shown);
  }

  /** Begins a setup with a current code: re-enrolment, or the secret a reset database forgot. */
  async function beginWithCode(code: string | null, field: ReturnType<typeof codeField>, next: HTMLButtonElement): Promise<void> {
    if (!code || busy) return;
    busy = true;
    next.disabled = true;
    showError(null);
    try {
      const e = await beginEnrollment(code);
      field.clear();
      busy = false;
      if (closed) dropBegun();
      else showScan(e);
    } catch (raw) {
      busy = false;
      next.disabled = false;
      const err = toIpcError(raw);
      if (!field.showError(err)) showError(err.message);
    }
  }

  // ---- re-enrolment: prove the current app first ---------------------------------------------------

  function showVerify(): void {
    setPhase('verify');
    const field = codeField({ label: 'Current 2FA code', onSubmit: () => void start(field.read()) });
    const next = h('button', { type: 'button', id: 'enroll-start', class: 'btn btn-primary' }, 'Continue');
    next.addEventListener('click', () => void start(field.read()));
    body.replaceChildren(
      h(
        'p',
        {},
        'A new secret replaces the one in your authenticator app, and new recovery codes replace the old ones. Enter a current code to continue.',
      ),
      field.row,
    );
    footerButtons(cancel, next);
    field.focus();

    function start(code: string | null): Promise<void> {
      return beginWithCode(code, field, next);
    }
  }

  // ---- first enrolment: ask Rust for a secret -----------------------------------------------------

  async function load(destroyOldSeed = false): Promise<void> {
    setPhase('loading');
    body.replaceChildren(
      h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Preparing a new secret…'),
    );
    footerButtons(cancel);
    busy = true;
    try {
      const e = await beginEnrollment(null, destroyOldSeed);
      busy = false;
      if (closed) dropBegun();
      else showScan(e);
    } catch (raw) {
      busy = false;
      if (closed) return;
      const err = toIpcError(raw);
      if (err.kind === 'guard' && err.code === 'old_seed_exists') {
        showOldSeed(err.message);
        return;
      }
      setPhase('failed');
      body.replaceChildren();
      showError(err.message);
      const retry = h('button', { type: 'button', id: 'enroll-retry', class: 'btn btn-primary' }, 'Try again');
      retry.addEventListener('click', () => {
        showError(null);
        void load();
      });
      footerButtons(cancel, retry);
      retry.focus();
    }
  }

  // ---- a reset database: the keychain still holds a 2FA secret --------------------------------------

  function showOldSeed(message: string): void {
    setPhase('old-seed');
    const field = codeField({
      id: 'old-seed-code',
      label: 'Code from your existing Latchkey entry',
      onSubmit: () => void withCode(field.read()),
    });
    const next = h('button', { type: 'button', id: 'old-seed-continue', class: 'btn btn-primary' }, 'Continue');
    next.addEventListener('click', () => void withCode(field.read()));
    const destroy = h(
      'button',
      { type: 'button', id: 'old-seed-destroy', class: 'btn btn-danger-quiet' },
      'Destroy the old secret',
    );
    const confirmDestroy = h('input', { type: 'checkbox', id: 'old-seed-destroy-confirm' });
    destroy.disabled = true;
    confirmDestroy.addEventListener('change', () => {
      destroy.disabled = !confirmDestroy.checked;
    });
    destroy.addEventListener('click', () => {
      if (!confirmDestroy.checked || busy) return;
      showError(null);
      void load(true);
    });
    body.replaceChildren(
      h('p', { id: 'old-seed-message' }, message),
      field.row,
      h(
        'p',
        { class: 'old-seed-choice' },
        h(
          'label',
          { for: 'old-seed-destroy-confirm' },
          confirmDestroy,
          ' I no longer have that authenticator entry: destroy the old secret. Its codes stop working for good, and this is written to the audit log.',
        ),
      ),
    );
    footerButtons(destroy, cancel, next);
    field.focus();

    function withCode(code: string | null): Promise<void> {
      return beginWithCode(code, field, next);
    }
  }

  // ---- scan the QR code, type the first code ------------------------------------------------------

  function showScan(e: Enrollment): void {
    if (closed) return;
    setPhase('scan');
    const secret = e.secretBase32.replace(/\s+/g, '');
    const field = codeField({ id: 'enroll-code', label: 'Code from the app', digitsOnly: true, onSubmit: () => void confirm() });
    const confirmBtn = h('button', { type: 'button', id: 'enroll-confirm', class: 'btn btn-primary' }, 'Turn on 2FA');
    confirmBtn.addEventListener('click', () => void confirm());
    body.replaceChildren(
      h(
        'ol',
        { class: 'enroll-steps' },
        h('li', {}, 'Open an authenticator app (Aegis, 2FAS, Google Authenticator, 1Password…) and scan this code.'),
        h('li', {}, 'Then type the 6-digit code it shows.'),
      ),
      h(
        'div',
        { class: 'enroll-grid' },
        h('div', { id: 'enroll-qr', class: 'qr' }, renderQr(e.qrSvg, 'QR code for your authenticator app')),
        h(
          'div',
          { class: 'enroll-manual' },
          h('p', { class: 'muted' }, 'Can’t scan? Enter this key by hand (time-based, 6 digits, 30 seconds):'),
          h(
            'code',
            {
              id: 'totp-secret',
              class: 'totp-secret',
              'data-secret': secret,
              'aria-label': `Secret key ${secret.split('').join(' ')}`,
            },
            groupSecret(secret),
          ),
          h('p', { class: 'muted' }, 'Account: Latchkey'),
        ),
      ),
      field.row,
    );
    footerButtons(cancel, confirmBtn);
    field.focus();

    async function confirm(): Promise<void> {
      if (busy) return;
      const code = field.read();
      if (!code) return;
      busy = true;
      confirmBtn.disabled = true;
      showError(null);
      // Rust checks the code, then hashes ten recovery codes (Argon2id, slow on purpose): say so
      // while it runs rather than leave a dead button.
      const progress = h(
        'p',
        { id: 'enroll-progress', class: 'loading', role: 'status', 'aria-live': 'polite' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        'Checking the code and making your recovery codes…',
      );
      body.append(progress);
      body.setAttribute('aria-busy', 'true');
      const done = (): void => {
        progress.remove();
        body.removeAttribute('aria-busy');
      };
      try {
        const { recoveryCodes } = await confirmEnrollment(code);
        done();
        field.clear();
        busy = false;
        enrolled = true;
        showCodes(recoveryCodes);
      } catch (raw) {
        done();
        busy = false;
        confirmBtn.disabled = false;
        const err = toIpcError(raw);
        if (setupGone(err)) {
          showRestart(err.message);
          return;
        }
        if (!field.showError(err)) showError(err.message);
      }
    }
  }

  /** The begun setup is gone in Rust (too many wrong codes, expired, changed elsewhere). */
  function showRestart(message: string): void {
    setPhase('failed');
    body.replaceChildren();
    showError(message);
    const again = h('button', { type: 'button', id: 'enroll-restart', class: 'btn btn-primary' }, 'Start again');
    again.addEventListener('click', () => {
      showError(null);
      if (opts.reenroll) showVerify();
      else void load();
    });
    footerButtons(cancel, again);
    again.focus();
  }

  // ---- the recovery codes, once -------------------------------------------------------------------

  function showCodes(codes: string[]): void {
    if (closed) return;
    setPhase('codes');
    title.textContent = '2FA is on — save your recovery codes';
    const shown = renderRecoveryCodes(codes, () => close());
    body.replaceChildren(...shown.body);
    footerButtons(...shown.buttons);
    shown.list.focus();
  }

  footerButtons(cancel);
  if (opts.reenroll) showVerify();
  else void load();

  return { close, escape };
}

export { lockText, openSecurity, type SecurityOptions } from './security-dialog';
