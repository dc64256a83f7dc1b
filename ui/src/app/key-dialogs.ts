// The dialogs a key card (or Add key) opens: the wizard, rotation, edit, delete, bots' access, and
// revealing or copying a secret. Each takes the dialog slot and frees it when it closes; a guarded
// one may hand the slot over to 2FA enrolment. The big ones load on first use (./dialogs).

import { deleteKey, setBotsAllowed } from '../api/commands';
import type { FixKind, IpcError, KeyView, SecretPart } from '../api/types';
import { confirmDelete } from '../dashboard/confirm-delete';
import { askCode } from '../guard/ask-code';
import { h } from '../lib/dom';
import { loaded } from '../lib/lazy';
import { startCopy, startReveal } from '../secrets/secrets';
import { startAgent } from '../agent/agent-dialog';
import type { Wizard } from '../wizard/wizard';
import { replaceKey, type AppContext } from './context';
import { LOAD_FAILED, editModule, fixModule, mintModule, rotateModule, rotateNowModule, wizardModule } from './dialogs';

export interface KeyDialogs {
  /** The wizard, or null while its code is still loading (it opens then). */
  startWizard(opener?: HTMLElement | null): Wizard | null;
  startRotation(key: KeyView): void;
  /** "Create a new key for a bot" through a master key on the list. */
  startMint(): void;
  /** A finding fixed through the key's master. */
  startFix(key: KeyView, kind: FixKind): void;
  startEdit(key: KeyView): void;
  removeKey(key: KeyView): Promise<void>;
  botsAccess(key: KeyView, allowed: boolean): Promise<void>;
  reveal(key: KeyView): Promise<void>;
  copy(key: KeyView, part: SecretPart): Promise<void>;
  /** The signing agent: the key's bots, and placeholders for a new one. */
  agent(key: KeyView): Promise<void>;
}

export function keyDialogs(ctx: AppContext): KeyDialogs {
  const { state, banner, dialogs, header } = ctx;
  const failed = (): void => banner.show(LOAD_FAILED);

  function startWizard(opener: HTMLElement | null = header.addButton): Wizard | null {
    if (state.wizard) return state.wizard;
    const m = loaded(wizardModule, () => void startWizard(opener), failed);
    if (!m || state.wizard) return state.wizard;
    banner.clear();
    let saved: string | null = null;
    state.wizard = m.openWizard({
      banner,
      now: ctx.now,
      defaultRotationDays: state.settings?.defaultRotationDays,
      environment: state.lastEnvironment,
      // First use: 2FA off and not skipped, so the wizard's last step is its setup.
      enrolAfterSave: () => state.guard?.enrolled === false && !state.guard.setupSkipped,
      onGuardChanged: () => void ctx.loadGuard(),
      returnFocus: () => (opener?.isConnected ? opener : null) ?? document.getElementById('add-first-key') ?? header.addButton,
      takenLabels: () => state.keys.filter((k) => k.status !== 'revoked').map((k) => k.label),
      onMint: () => startMint(),
      onSaved: (record) => {
        state.keys = [...state.keys.filter((k) => k.id !== record.id), record];
        state.lastEnvironment = record.environment;
        saved = record.id;
        ctx.render();
        ctx.announce(`Key “${record.label}” saved to the keychain.`);
        if (!document.getElementById('wizard')) ctx.focusCard(record.id);
      },
      onClosed: () => {
        state.wizard = null;
        banner.mountIn(ctx.bannerSlot);
        // After the 2FA step the saved key's card gets focus (the wizard was still open before).
        if (saved && !dialogs.busy) ctx.focusCard(saved);
      },
    });
    return state.wizard;
  }

  /** Minting: the new key joins the list once Rust has it in the keychain. */
  function startMint(): void {
    const m = loaded(mintModule, () => startMint(), failed);
    if (!m) return;
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let minted: string | null = null;
    m.openMintDialog({
      keys: state.keys,
      guardEnrolled: state.guard?.enrolled ?? true,
      defaultRotationDays: state.settings?.defaultRotationDays,
      onMinted: ({ key }) => {
        minted = key.id;
        ctx.announce(`Key “${key.label}” created; its secret is in the keychain.`);
        void ctx.refresh();
      },
      onClosed: () => {
        dialogs.release(t);
        if (minted) ctx.focusCard(minted);
      },
      returnFocus: () => header.addButton,
    });
  }

  function startFix(key: KeyView, kind: FixKind): void {
    const m = loaded(fixModule, () => startFix(key, kind), failed);
    if (!m) return;
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    m.openFixDialog({
      key,
      kind,
      guardEnrolled: state.guard?.enrolled ?? true,
      onFixed: ({ key: updated }) => {
        replaceKey(state, updated);
        ctx.render();
        ctx.announce(`Key “${updated.label}” changed through its master and checked again.`);
      },
      onClosed: () => {
        dialogs.release(t);
        ctx.focusCard(key.id);
      },
    });
  }

  /** A key whose master Latchkey holds rotates through it at once; any other key by the guided
   * dialog. Either way the list is reloaded for Rust's new order. */
  function startRotation(key: KeyView): void {
    if (key.autoRotate !== 'unavailable') {
      rotateThroughMaster(key);
      return;
    }
    const m = loaded(rotateModule, () => startRotation(key), failed);
    if (!m) return;
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let enroll = false;
    let newId = key.id;
    m.openRotateDialog({
      key,
      now: ctx.now,
      returnFocus: () => ctx.buttonOf(key.id, 'rotate-key'),
      onEnroll: () => (enroll = true),
      onRotated: ({ key: updated }) => {
        ctx.cardStates.delete(key.id);
        newId = updated.id;
        ctx.announce(`Key “${updated.label}” rotated.`);
        void ctx.refresh();
      },
      onClosed: (rotated) => {
        dialogs.release(t);
        if (rotated) void ctx.refresh().then(() => ctx.focusCard(newId));
        if (enroll) ctx.startEnrollment(false);
      },
    });
  }

  function rotateThroughMaster(key: KeyView): void {
    const m = loaded(rotateNowModule, () => rotateThroughMaster(key), failed);
    if (!m) return;
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let enroll = false;
    let newId = key.id;
    m.openRotateNowDialog({
      key,
      masterLabel: state.keys.find((k) => k.id === key.masterKeyId)?.label ?? null,
      returnFocus: () => ctx.buttonOf(key.id, 'rotate-key'),
      onEnroll: () => (enroll = true),
      onRotated: ({ key: updated }) => {
        if (!updated) return;
        ctx.cardStates.delete(key.id);
        newId = updated.id;
        ctx.announce(`Key “${updated.label}” rotated through its master.`);
        void ctx.refresh();
      },
      onClosed: (rotated) => {
        dialogs.release(t);
        if (rotated) void ctx.refresh().then(() => ctx.focusCard(newId));
        else ctx.focusCard(key.id);
        if (enroll) ctx.startEnrollment(false);
      },
    });
  }

  /** The Edit dialog: the card shows Rust's answer at once; after a move the dialog stays open with
   * the re-verify result until closed. */
  function startEdit(key: KeyView): void {
    const m = loaded(editModule, () => startEdit(key), failed);
    if (!m) return;
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let enroll = false;
    m.openEditDialog({
      key,
      keys: state.keys,
      // Unknown 2FA state: ask for the code (Rust ignores it where none is needed).
      guardEnrolled: state.guard?.enrolled ?? true,
      onSaved: ({ key: updated, changes }) => {
        replaceKey(state, updated);
        ctx.cardStates.delete(updated.id);
        ctx.render();
        if (changes.length) ctx.announce(`Key “${updated.label}” saved: ${changes.join('; ')}.`);
      },
      onEnroll: () => (enroll = true),
      onClosed: () => {
        dialogs.release(t);
        if (enroll) ctx.startEnrollment(false);
        else ctx.buttonOf(key.id, 'edit-key').focus();
      },
      returnFocus: () => ctx.buttonOf(key.id, 'edit-key'),
    });
  }

  /** Delete is guarded: the confirmation asks for a 2FA code and sends it with the id. */
  async function removeKey(key: KeyView): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let gone = false;
    const deleted = await confirmDelete(key, {
      remove: async (code) => {
        try {
          await deleteKey(key.id, code);
        } catch (e) {
          if ((e as IpcError).kind !== 'not_found') throw e;
          gone = true;
        }
      },
      onEnroll: dialogs.handOver(t, () => ctx.startEnrollment(false)),
      returnFocus: () => ctx.buttonOf(key.id, 'delete-key'),
    });
    dialogs.release(t);
    if (!deleted) return;
    if (gone) {
      await ctx.refresh();
      return;
    }
    const i = state.keys.findIndex((k) => k.id === key.id);
    state.keys = state.keys.filter((k) => k.id !== key.id);
    ctx.cardStates.delete(key.id);
    ctx.render();
    ctx.announce(`Key “${key.label}” deleted.`);
    const live = state.keys.filter((k) => k.status !== 'revoked');
    const neighbour = live[Math.min(i, state.keys.length - 1)] ?? state.keys.find((k) => k.status !== 'revoked');
    if (neighbour) ctx.focusCard(neighbour.id);
    else (document.getElementById('add-first-key') ?? header.addButton).focus();
  }

  /** "Bots may use this key": off at once; on asks for a 2FA code, checked in Rust. */
  async function botsAccess(key: KeyView, allowed: boolean): Promise<void> {
    if (dialogs.busy) return;
    banner.clear();
    let updated: KeyView | null = null;
    try {
      if (!allowed) {
        updated = await setBotsAllowed(key.id, false, null);
      } else {
        const t = dialogs.take();
        if (t === null) return;
        updated = await askCode<KeyView>({
          ids: { dialog: 'bots-dialog', title: 'bots-title', cancel: 'bots-cancel', confirm: 'bots-confirm' },
          title: `Let bots use “${key.label}”?`,
          body: [
            h('p', {}, '`latchkey run` will hand this key to any command you start with it, without asking again.'),
            h('p', { class: 'muted' }, 'Enter a 2FA code to allow it.'),
          ],
          confirmLabel: 'Allow bots',
          busyLabel: 'Checking…',
          run: (code) => setBotsAllowed(key.id, true, code),
          onEnroll: dialogs.handOver(t, () => ctx.startEnrollment(false)),
          returnFocus: () => ctx.buttonOf(key.id, 'bots-allowed'),
        });
        dialogs.release(t);
      }
    } catch (e) {
      ctx.showError(e as IpcError);
    }
    if (!updated) return;
    const changed = updated;
    replaceKey(state, changed);
    ctx.render();
    ctx.announce(changed.botsAllowed ? `Bots may now use “${changed.label}”.` : `Bots may no longer use “${changed.label}”.`);
    ctx.buttonOf(changed.id, 'bots-allowed').focus();
  }

  /** Reveal and copy are guarded; 2FA may have been set up elsewhere (`latchkey 2fa enroll`), so
   * Rust is asked before the dialog says it is not. */
  async function reveal(key: KeyView): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    if (state.guard?.enrolled === false) await ctx.loadGuard();
    await startReveal(key, {
      enrolled: state.guard?.enrolled,
      onEnroll: dialogs.handOver(t, () => ctx.startEnrollment(false)),
      returnFocus: () => ctx.buttonOf(key.id, 'reveal-key'),
      onClosed: () => dialogs.release(t),
    });
  }

  async function copy(key: KeyView, part: SecretPart): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    if (state.guard?.enrolled === false) await ctx.loadGuard();
    await startCopy(key, part, {
      enrolled: state.guard?.enrolled,
      onEnroll: dialogs.handOver(t, () => ctx.startEnrollment(false)),
      returnFocus: () => ctx.buttonOf(key.id, 'copy-menu-toggle'),
      onClosed: () => dialogs.release(t),
    });
  }

  /** Issuing placeholders is guarded in Rust; the list and a bot's revoke are not. */
  async function agent(key: KeyView): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    try {
      await startAgent(key, {
        onEnroll: dialogs.handOver(t, () => ctx.startEnrollment(false)),
        returnFocus: () => ctx.buttonOf(key.id, 'agent-key'),
        announce: (text) => ctx.announce(text),
      });
    } finally {
      dialogs.release(t);
    }
  }

  return { startWizard, startRotation, startMint, startFix, startEdit, removeKey, botsAccess, reveal, copy, agent };
}
