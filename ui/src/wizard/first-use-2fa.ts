// First use: when 2FA is not set up (and the user has not chosen to go without it), the wizard's
// step after saving is 2FA enrolment, the same flow as the 2FA dialog (`runEnrollment`). It has no
// Cancel: it ends when 2FA is on, or with the explicit "Skip 2FA for now" after ticking what that
// leaves unguarded (recorded in Rust, so the wizard does not ask after every key).

import { skipGuardSetup, toIpcError } from '../api/commands';
import { runEnrollment, type EnrollFlow } from '../guard/enroll';
import { SKIP_2FA_ACCEPTANCE } from '../guard/guarded';
import type { Banner } from '../lib/banner';
import { h } from '../lib/dom';

export interface EnrolStepOptions {
  /** The wizard's 2FA panel, filled here. */
  panel: HTMLElement;
  title: HTMLElement;
  footer: HTMLElement;
  banner: Banner;
  /** 2FA was set up, or skipped. */
  onGuardChanged?: () => void;
  /** Closes the wizard. */
  close: () => void;
}

export function runEnrolStep(o: EnrolStepOptions): EnrollFlow {
  o.title.textContent = 'Last step: set up two-factor authentication';
  const flowBody = h('div', { class: 'enroll-body', 'aria-live': 'polite' });
  const flowError = h('p', { class: 'card-error dialog-error', role: 'alert', hidden: true });
  const accept = h('input', { type: 'checkbox', id: 'skip-2fa-accept' });
  const skip = h('button', { type: 'button', id: 'skip-2fa', class: 'btn btn-quiet', disabled: true }, 'Skip 2FA for now');
  accept.addEventListener('change', () => {
    skip.disabled = !accept.checked;
  });
  skip.addEventListener('click', () => {
    if (!accept.checked || skip.disabled) return;
    skip.disabled = true;
    skipGuardSetup(SKIP_2FA_ACCEPTANCE).then(
      () => {
        o.onGuardChanged?.();
        o.close();
      },
      (raw: unknown) => {
        skip.disabled = !accept.checked;
        o.banner.show(toIpcError(raw).message);
      },
    );
  });
  o.panel.replaceChildren(
    h(
      'p',
      { class: 'panel-intro', id: 'wizard-2fa-intro' },
      'Your key is saved. Set up 2FA now, before an emergency: revealing, copying, rotating, deleting and revoking keys then ask for a code from your phone, so nobody else at this computer can.',
    ),
    flowBody,
    flowError,
    h('p', { class: 'skip-2fa field-check' }, h('label', { for: 'skip-2fa-accept' }, accept, ' ', SKIP_2FA_ACCEPTANCE)),
  );
  o.panel.hidden = false;
  return runEnrollment(
    {
      root: o.panel,
      title: o.title,
      body: flowBody,
      errorBox: flowError,
      footer: o.footer,
      cancellable: false,
      leading: () => [skip],
      dispose: () => o.close(),
    },
    {
      reenroll: false,
      onClosed: (enrolled) => {
        if (enrolled) o.onGuardChanged?.();
      },
    },
  );
}
