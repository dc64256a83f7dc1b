// Emergency revoke, the follow-ups on a quarantined key (retry, wipe locally, "I deleted it") and
// the report they end with. The revoke dialog loads on first use (./dialogs).

import type { KeyView, RevokeReport } from '../api/types';
import { askCode } from '../guard/ask-code';
import { loaded } from '../lib/lazy';
import { FOLLOW_UP_BUTTON, followUpDialog, type FollowUp } from '../revoke/follow-up';
import type { AppContext } from './context';
import { LOAD_FAILED, revokeModule } from './dialogs';

export interface RevokeDialogs {
  startRevoke(): void;
  followUp(action: FollowUp, key: KeyView): Promise<void>;
}

export function revokeDialogs(ctx: AppContext): RevokeDialogs {
  const { banner, dialogs, header } = ctx;
  const failed = (): void => banner.show(LOAD_FAILED);

  /** Retry revoke, wipe locally and "I deleted it": one guarded dialog each, then the report. */
  async function followUp(action: FollowUp, key: KeyView): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    const report = await askCode<RevokeReport>({
      ...followUpDialog(action, key),
      unguarded: ctx.state.guard?.enrolled === false,
      onEnroll: dialogs.handOver(t, () => ctx.startEnrollment(false)),
      returnFocus: () => ctx.buttonOf(key.id, FOLLOW_UP_BUTTON[action]),
    });
    dialogs.release(t);
    if (report) showReport(report, key.id);
  }

  function showReport(report: RevokeReport, id: string): void {
    const m = loaded(revokeModule, () => showReport(report, id), failed);
    if (!m) return;
    // Right after the dialog that ran the revoke freed the slot.
    const t = dialogs.take();
    if (t === null) return;
    m.openRevokeDialog({
      report,
      returnFocus: () => ctx.cardOf(id) ?? header.revokeButton,
      onEnroll: () => ctx.startEnrollment(false),
      onClosed: () => {
        dialogs.release(t);
        void ctx.refresh();
      },
    });
  }

  function startRevoke(): void {
    const m = loaded(revokeModule, startRevoke, failed);
    if (!m) return;
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let enroll = false;
    m.openRevokeDialog({
      returnFocus: () => header.revokeButton,
      onEnroll: () => (enroll = true),
      onClosed: (ran) => {
        dialogs.release(t);
        if (ran) void ctx.refresh();
        if (enroll) ctx.startEnrollment(false);
      },
    });
  }

  return { startRevoke, followUp };
}
