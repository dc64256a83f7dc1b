// The security dialog (`#security-dialog`): the guard's status (enrolled, locked out, recovery codes
// left) with "Re-enrol" and "Disable 2FA", or "Set up 2FA".

import type { GuardStatus } from '../api/types';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import { GUARDED_ACTIONS } from './guarded';

export interface SecurityOptions {
  status: GuardStatus;
  now: () => Date;
  returnFocus?: () => HTMLElement | null;
  /** The dialog closed by itself (Close, Escape). */
  onClosed: () => void;
  /** "Set up 2FA" / "Re-enrol": the dialog is closed first. */
  onEnroll: (reenroll: boolean) => void;
  /** "Disable 2FA": the dialog is closed first; the caller asks for the code. */
  onDisable: () => void;
}

export function lockText(lockedUntil: string | null, now: Date): string | null {
  if (!lockedUntil) return null;
  const t = Date.parse(lockedUntil);
  if (Number.isNaN(t) || t <= now.getTime()) return null;
  const mins = Math.ceil((t - now.getTime()) / 60000);
  return `Locked after too many wrong codes: try again in ${mins} min (at ${new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}).`;
}

export function openSecurity(opts: SecurityOptions): void {
  const s = opts.status;
  const lock = lockText(s.lockedUntil, opts.now());
  let closed = false;
  const closeThen = (next: () => void): void => {
    if (closed) return;
    closed = true;
    modal.close();
    next();
  };
  const close = h('button', { type: 'button', id: 'security-close', class: 'btn btn-secondary' }, 'Close');
  const actions: HTMLElement[] = [];
  if (s.enrolled) {
    const disable = h('button', { type: 'button', id: 'disable-2fa', class: 'btn btn-danger-quiet' }, 'Disable 2FA');
    const reenroll = h('button', { type: 'button', id: 'reenroll-2fa', class: 'btn btn-secondary' }, 'Re-enrol');
    disable.addEventListener('click', () => closeThen(opts.onDisable));
    reenroll.addEventListener('click', () => closeThen(() => opts.onEnroll(true)));
    actions.push(disable, reenroll);
  } else {
    const enable = h('button', { type: 'button', id: 'enable-2fa', class: 'btn btn-primary' }, 'Set up 2FA');
    enable.addEventListener('click', () => closeThen(() => opts.onEnroll(false)));
    actions.push(enable);
  }
  const modal = openModal(
    {
      id: 'security-dialog',
      labelledBy: 'security-title',
      className: 'dialog-small',
      onEscape: () => closeThen(opts.onClosed),
      returnFocus: opts.returnFocus,
    },
    h('h2', { id: 'security-title' }, 'Two-factor authentication'),
    h(
      'div',
      {
        id: 'guard-status',
        class: `guard-status ${s.enrolled ? 'guard-on' : 'guard-off'}`,
        'data-enrolled': String(s.enrolled),
        'data-locked': String(!!lock),
      },
      h(
        'p',
        { class: 'guard-state' },
        h('span', { class: 'guard-dot', 'aria-hidden': 'true' }),
        s.enrolled ? '2FA is on' : '2FA is not set up',
      ),
      h(
        'p',
        { class: 'muted', id: 'guarded-intro' },
        s.enrolled
          ? 'These ask for a code from your authenticator app:'
          : 'Without 2FA these cannot be used. Set it up now: it takes a minute.',
      ),
      h(
        'ul',
        { id: 'guarded-actions', class: 'guarded-actions muted', 'aria-labelledby': 'guarded-intro' },
        ...GUARDED_ACTIONS.map((a) => h('li', {}, a)),
      ),
      s.enrolled ? h('p', { id: 'recovery-left' }, `Recovery codes left: ${s.recoveryCodesLeft}`) : null,
      lock ? h('p', { id: 'guard-locked', class: 'card-error' }, lock) : null,
    ),
    h('div', { class: 'dialog-footer' }, ...actions, h('span', { class: 'spacer' }), close),
  );
  close.addEventListener('click', () => closeThen(opts.onClosed));
  close.focus();
}
