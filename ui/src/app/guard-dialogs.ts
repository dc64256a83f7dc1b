// 2FA from the header: its state on the 2FA button and the reminder banner, enrolment, the
// security dialog and turning 2FA off. The enrolment dialogs load on first use (./dialogs).

import { disableGuard, guardStatus } from '../api/commands';
import { askCode } from '../guard/ask-code';
import { h } from '../lib/dom';
import { loaded } from '../lib/lazy';
import type { AppContext } from './context';
import { LOAD_FAILED, enrollModule } from './dialogs';

export interface GuardDialogs {
  loadGuard(): Promise<void>;
  /** The header's reminder: shown while keys exist and 2FA is not set up, whatever was chosen. */
  syncReminder(): void;
  startEnrollment(reenroll: boolean): void;
  startSecurity(): Promise<void>;
}

export function guardDialogs(ctx: AppContext): GuardDialogs {
  const { state, banner, dialogs, header } = ctx;
  const { guardButton } = header;
  const failed = (): void => banner.show(LOAD_FAILED);

  const loadGuard = async (): Promise<void> => {
    try {
      state.guard = await guardStatus();
    } catch {
      state.guard = null;
    }
    const enrolled = state.guard?.enrolled ?? null;
    guardButton.setAttribute('data-enrolled', String(enrolled));
    guardButton.querySelector('.btn-text')!.textContent = enrolled === false ? 'Set up 2FA' : '2FA';
    guardButton.title = enrolled
      ? 'Two-factor authentication is on'
      : enrolled === false
        ? 'Two-factor authentication is not set up'
        : 'Two-factor authentication';
    syncReminder();
  };

  function syncReminder(): void {
    header.enrollBanner.hidden = !(state.guard?.enrolled === false && state.keys.some((k) => k.status !== 'revoked'));
  }

  function startEnrollment(reenroll: boolean): void {
    const m = loaded(enrollModule, () => startEnrollment(reenroll), failed);
    if (!m) return;
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    m.openEnrollment({
      reenroll,
      returnFocus: () => guardButton,
      onClosed: (enrolled) => {
        dialogs.release(t);
        if (enrolled) ctx.announce('Two-factor authentication is on.');
        void loadGuard();
      },
    });
  }

  async function startSecurity(): Promise<void> {
    if (dialogs.busy) return;
    await loadGuard();
    if (!state.guard || !state.guard.enrolled) {
      startEnrollment(false);
      return;
    }
    const m = enrollModule.now ?? (await enrollModule.load().catch(() => null));
    if (!m) return failed();
    const t = dialogs.take();
    if (t === null) return;
    m.openSecurity({
      status: state.guard,
      now: ctx.now,
      returnFocus: () => guardButton,
      onClosed: () => dialogs.release(t),
      onEnroll: (reenroll) => dialogs.handOver(t, () => startEnrollment(reenroll))(),
      onDisable: dialogs.handOver(t, () => void disable2fa()),
    });
  }

  async function disable2fa(): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    const off = await askCode({
      ids: { dialog: 'disable-dialog', title: 'disable-title', cancel: 'disable-cancel', confirm: 'disable-confirm' },
      title: 'Turn off 2FA?',
      body: [
        h('p', {}, 'Emergency revoke, deleting keys and the other guarded actions will not work until you set 2FA up again.'),
      ],
      confirmLabel: 'Disable 2FA',
      busyLabel: 'Turning off…',
      danger: true,
      run: (code) => disableGuard(code).then(() => true),
      returnFocus: () => guardButton,
    });
    dialogs.release(t);
    if (off) ctx.announce('Two-factor authentication is off.');
    await loadGuard();
  }

  return { loadGuard, syncReminder, startEnrollment, startSecurity };
}
