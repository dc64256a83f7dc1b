// The window: header, banners, the key list, and the dialogs it opens.

import logoUrl from './assets/logo.svg';
import {
  auditLog,
  deleteKey,
  disableGuard,
  getKey,
  getSettings,
  guardStatus,
  keychainStatus,
  listKeys,
  orphanKeys,
  setBotsAllowed,
  snoozeKey,
  verifyKey,
} from './api/commands';
import type { Environment, GuardStatus, IpcError, KeyView, Orphan, RevokeReport, Settings } from './api/types';
import { renderAuditView } from './audit/audit-view';
import { confirmDelete } from './dashboard/confirm-delete';
import { openOrphansDialog } from './dashboard/orphans-dialog';
import { renderKeyList, type CardState, type ListOptions } from './dashboard/dashboard';
import { exchangeName, isStillLive } from './dashboard/format';
import { shortDate } from './dashboard/rotation';
import { askCode } from './guard/ask-code';
import { openEnrollment, openSecurity } from './guard/enroll';
import { Banner } from './lib/banner';
import { DialogSlot } from './lib/dialog-slot';
import { h, icon } from './lib/dom';
import { mark, markAfterPaint } from './lib/marks';
import { openRevokeDialog } from './revoke/revoke-dialog';
import { openRotateDialog } from './rotate/rotate-dialog';
import { openEditDialog } from './dashboard/edit-dialog';
import { renderSettingsView } from './settings/settings-view';
import { FOLLOW_UP_BUTTON, followUpDialog, type FollowUp } from './revoke/follow-up';
import { openWizard, type Wizard } from './wizard/wizard';
import { startCopy, startReveal } from './secrets/secrets';
import type { SecretPart } from './api/types';

export interface AppOptions {
  /** The clock, for tests. */
  now?: () => Date;
}

export interface App {
  refresh(): Promise<void>;
  openWizard(): Wizard;
  readonly ready: Promise<void>;
}

const SHIELD = ['M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6l8-3z', 'M9 12l2 2 4-4'];
const LIST = ['M8 6h12', 'M8 12h12', 'M8 18h12', 'M4 6h.01', 'M4 12h.01', 'M4 18h.01'];
const ALERT = ['M12 3l10 18H2L12 3z', 'M12 10v4', 'M12 17h.01'];
const GEAR = [
  'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z',
  'M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z',
];
const AUDIT_LIMIT = 1000;
/** Cards built before a re-rendered list is shown: more than a tall window holds, so a list the
 * user has scrolled keeps its height while the rest is appended. */
const EAGER_CARDS = 40;
/** Cards built before the window's very first frame, where nothing is scrolled yet: a screenful
 * (a card is ~190 px tall). Each card more costs the first frame ~1.5 ms. */
const FIRST_SCREEN_CARDS = 10;

export function mountApp(root: HTMLElement, options: AppOptions = {}): App {
  const now = options.now ?? (() => new Date());
  let keys: KeyView[] = [];
  let wizard: Wizard | null = null;
  /** Re-checks under way and their errors, by key id: they survive re-renders of the list. */
  const cardStates = new Map<string, CardState>();
  let guard: GuardStatus | null = null;
  /** The environment of the last key saved (this session only; nothing secret): the wizard offers
   * it again for the next key. */
  let lastEnvironment: Environment | undefined;
  let view: 'keys' | 'audit' | 'settings' = 'keys';
  /** The saved settings, once loaded: the wizard's rotation field starts at `defaultRotationDays`. */
  let settings: Settings | null = null;
  /** One dialog at a time: the modal's focus trap does not stack (the wizard counts as one). */
  const dialogs = new DialogSlot(() => wizard !== null);

  const banner = new Banner();
  const keychainBanner = h('div', { id: 'keychain-banner', class: 'banner banner-warning', role: 'alert', hidden: true });
  const status = h('p', { id: 'status', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const addButton = h(
    'button',
    { type: 'button', id: 'add-key', class: 'btn btn-primary', 'aria-haspopup': 'dialog' },
    h('span', { 'aria-hidden': 'true', class: 'plus' }, '+'),
    ' Add key',
  );
  const auditButton = h(
    'button',
    { type: 'button', id: 'open-audit', class: 'btn btn-quiet', 'aria-pressed': 'false' },
    icon(LIST),
    h('span', { class: 'btn-text' }, 'Audit log'),
  );
  const settingsButton = h(
    'button',
    { type: 'button', id: 'open-settings', class: 'btn btn-quiet', 'aria-pressed': 'false' },
    icon(GEAR),
    h('span', { class: 'btn-text' }, 'Settings'),
  );
  const guardButton = h(
    'button',
    { type: 'button', id: 'open-2fa', class: 'btn btn-quiet', 'aria-haspopup': 'dialog' },
    icon(SHIELD),
    h('span', { class: 'btn-text' }, '2FA'),
  );
  const revokeButton = h(
    'button',
    { type: 'button', id: 'emergency-revoke', class: 'btn btn-danger btn-emergency', 'aria-haspopup': 'dialog' },
    icon(ALERT),
    h('span', {}, 'Emergency revoke'),
  );
  // Keys a revoke could not end at their exchange, counted in red until resolved.
  const stillLiveCount = h('span', { id: 'still-live-count', class: 'still-live-count', role: 'status', hidden: true });
  // While keys exist without 2FA: a reminder in the (sticky) header, which cannot be dismissed.
  const enrollStart = h(
    'button',
    { type: 'button', id: 'enroll-banner-start', class: 'btn btn-primary btn-small' },
    'Set up 2FA',
  );
  const enrollBanner = h(
    'div',
    { id: 'enroll-banner', class: 'header-reminder', role: 'region', 'aria-label': 'Two-factor authentication', hidden: true },
    h(
      'p',
      { class: 'header-reminder-text' },
      h('strong', {}, '2FA is not set up. '),
      'Anyone at this computer can revoke your keys by typing REVOKE; revealing, copying, rotating and deleting stay locked until you set it up.',
    ),
    enrollStart,
  );
  const header = h(
    'header',
    { class: 'app-header' },
    h(
      'div',
      { class: 'app-header-row' },
      h(
        'div',
        { class: 'brand' },
        h('img', { src: logoUrl, alt: '', class: 'logo', width: 28, height: 28 }),
        h('h1', {}, 'Latchkey'),
        h('span', { class: 'tagline' }, 'Exchange API keys, kept in your OS keychain'),
      ),
      h(
        'nav',
        { class: 'header-actions', 'aria-label': 'Main' },
        stillLiveCount,
        auditButton,
        settingsButton,
        guardButton,
        addButton,
        revokeButton,
      ),
    ),
    enrollBanner,
  );
  const main = h('main', { id: 'main', class: 'app-main', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading keys…'));
  const bannerSlot = h('div', { class: 'banner-slot' }, keychainBanner);
  root.replaceChildren(header, bannerSlot, main, status);
  banner.mountIn(bannerSlot);

  const announce = (text: string): void => {
    status.textContent = text;
  };

  const showError = (err: IpcError): void => banner.show(err.message);

  const handlers = {
    onAdd: () => startWizard(document.getElementById('add-first-key')),
    onDelete: (key: KeyView) => void removeKey(key),
    onRecheck: (key: KeyView) => void recheck(key),
    onRetryRevoke: (key: KeyView) => void followUp('retry', key),
    onWipe: (key: KeyView) => void followUp('wipe', key),
    onConfirmDeleted: (key: KeyView) => void followUp('confirmDeleted', key),
    onSnooze: (key: KeyView, days: 1 | 7) => void snooze(key, days),
    onRotate: (key: KeyView) => startRotation(key),
    onReveal: (key: KeyView) => void reveal(key),
    onCopy: (key: KeyView, part: SecretPart) => void copy(key, part),
    onBotsAllowed: (key: KeyView, allowed: boolean) => void botsAccess(key, allowed),
    onEdit: (key: KeyView) => startEdit(key),
  };

  const cardOf = (id: string): HTMLElement | null =>
    main.querySelector<HTMLElement>(`[data-testid=key-card][data-id="${CSS.escape(id)}"]`);

  /** Re-renders the list; focus on a card or one of its buttons stays on its counterpart. With
   * many keys the first cards (and the focused one) are built at once, the rest right after
   * (see `renderKeyList`). */
  const render = (timing: Pick<ListOptions, 'onShown' | 'onComplete'> = {}): void => {
    if (view !== 'keys') return;
    const active = document.activeElement;
    const card =
      active instanceof HTMLElement && main.contains(active) ? active.closest<HTMLElement>('[data-testid=key-card]') : null;
    syncReminder();
    const live = keys.filter((k) => isStillLive(k.status)).length;
    stillLiveCount.hidden = live === 0;
    stillLiveCount.textContent = live === 1 ? '1 key still live' : `${live} keys still live`;
    stillLiveCount.title =
      'Keys an emergency revoke could not end at their exchange: delete them on the website, then confirm on their card.';
    const control =
      card && active !== card
        ? ['recheck-key', 'delete-key', 'retry-revoke', 'wipe-locally', 'confirm-deleted', 'rotate-key', 'reveal-key'].find((c) =>
            (active as HTMLElement).classList.contains(c),
          )
        : undefined;
    const revokedOpen = !!main.querySelector<HTMLDetailsElement>('#revoked-keys')?.open;
    main.removeAttribute('aria-busy');
    const focusedAt = card?.dataset.id ? keys.findIndex((k) => k.id === card.dataset.id) : -1;
    const eager = Math.max(main.querySelector('#key-list') ? EAGER_CARDS : FIRST_SCREEN_CARDS, focusedAt + 1);
    main.replaceChildren(renderKeyList(keys, now(), handlers, cardStates, revokedOpen, { eager, ...timing }));
    if (card?.dataset.id) {
      const again = cardOf(card.dataset.id);
      const target = control ? again?.querySelector<HTMLElement>(`.${control}`) : again;
      (target && !target.hasAttribute('disabled') ? target : again)?.focus();
    }
  };

  const focusCard = (id: string): void => {
    (cardOf(id) ?? addButton).focus();
  };

  /** The first load of the list is timed for the benchmarks (bench/run.sh). */
  let firstLoad = true;
  const refresh = async (): Promise<void> => {
    if (view !== 'keys') return;
    const timed = firstLoad;
    firstLoad = false;
    try {
      if (timed) mark('latchkey:list-call');
      keys = await listKeys();
      if (timed) mark('latchkey:list-reply');
      render(
        timed ? { onShown: () => mark('latchkey:list-painted'), onComplete: () => markAfterPaint('latchkey:list-complete') } : {},
      );
      if (timed) mark('latchkey:list-rendered');
    } catch (e) {
      showError(e as IpcError);
      const retry = h('button', { type: 'button', id: 'retry-load', class: 'btn btn-secondary' }, 'Try again');
      retry.addEventListener('click', () => void refresh());
      main.removeAttribute('aria-busy');
      main.replaceChildren(h('div', { class: 'load-failed' }, h('p', {}, 'The key list could not be loaded.'), retry));
    }
  };

  // Keys changed outside this page (the CLI in another process, a notification's Snooze): Rust
  // says so (src-tauri/store_watch.rs, src-tauri/tray.rs).
  window.addEventListener('latchkey-keys-changed', () => void refresh());

  const checkKeychain = async (): Promise<void> => {
    let message: string | null = null;
    try {
      const s = await keychainStatus();
      if (!s.ok) message = s.message ?? 'The OS keychain is not available, so keys cannot be saved.';
    } catch (e) {
      message = (e as IpcError).message;
    }
    if (message) {
      keychainBanner.replaceChildren(h('strong', {}, 'Keychain unavailable. '), message);
      keychainBanner.hidden = false;
    } else {
      keychainBanner.hidden = true;
    }
  };

  function startWizard(opener: HTMLElement | null = addButton): Wizard {
    if (wizard) return wizard;
    banner.clear();
    let saved: string | null = null;
    wizard = openWizard({
      banner,
      now,
      defaultRotationDays: settings?.defaultRotationDays,
      environment: lastEnvironment,
      // First use: 2FA off and not skipped, so the wizard's last step is its setup.
      enrolAfterSave: () => guard?.enrolled === false && !guard.setupSkipped,
      onGuardChanged: () => void loadGuard(),
      returnFocus: () => (opener?.isConnected ? opener : null) ?? document.getElementById('add-first-key') ?? addButton,
      takenLabels: () => keys.filter((k) => k.status !== 'revoked').map((k) => k.label),
      onSaved: (record) => {
        keys = [...keys.filter((k) => k.id !== record.id), record];
        lastEnvironment = record.environment;
        saved = record.id;
        render();
        announce(`Key “${record.label}” saved to the keychain.`);
        if (!document.getElementById('wizard')) focusCard(record.id);
      },
      onClosed: () => {
        wizard = null;
        banner.mountIn(bannerSlot);
        // After the 2FA step the saved key's card gets focus (the wizard was still open before).
        if (saved && !dialogs.busy) focusCard(saved);
      },
    });
    return wizard;
  }

  /** Asks the exchange again about a saved key; the card shows the answer or the error. */
  async function recheck(key: KeyView): Promise<void> {
    if (cardStates.get(key.id)?.checking) return;
    cardStates.set(key.id, { checking: true });
    render();
    let error: string | null = null;
    try {
      const updated = await verifyKey(key.id);
      keys = keys.map((k) => (k.id === key.id ? updated : k));
      announce(`Key “${updated.label}” re-checked with ${exchangeName(updated.exchange)}.`);
    } catch (e) {
      const err = e as IpcError;
      error = err.message;
      // A key the exchange refused is marked rejected in Rust: show the card's new status too.
      if (err.kind === 'exchange' && (err.code === 'invalid_key' || err.code === 'key_expired')) {
        try {
          const updated = await getKey(key.id);
          keys = keys.map((k) => (k.id === key.id ? updated : k));
        } catch {
          // The inline error still says what happened.
        }
      }
      if (err.kind === 'not_found') {
        cardStates.delete(key.id);
        showError(err);
        await refresh();
        return;
      }
    }
    if (error) cardStates.set(key.id, { error });
    else cardStates.delete(key.id);
    render();
    // Focus went to the card (or nowhere) while its button was disabled: give it back to the button.
    const active = document.activeElement;
    const card = cardOf(key.id);
    if (!wizard && card && (!active || active === document.body || active === card))
      card.querySelector<HTMLElement>('.recheck-key')?.focus();
  }

  /** Silences a key's reminders; the card stays where it is (Rust sorts by urgency, not by snooze). */
  async function snooze(key: KeyView, days: 1 | 7): Promise<void> {
    if (cardStates.get(key.id)?.snoozing) return;
    banner.clear();
    cardStates.set(key.id, { ...cardStates.get(key.id), snoozing: true });
    render();
    try {
      const updated = await snoozeKey(key.id, days);
      keys = keys.map((k) => (k.id === key.id ? updated : k));
      announce(
        updated.snoozedUntil
          ? `Reminders for “${updated.label}” snoozed until ${shortDate(updated.snoozedUntil)}.`
          : `Reminders for “${updated.label}” snoozed.`,
      );
    } catch (e) {
      showError(e as IpcError);
    }
    const { snoozing: _done, ...rest } = cardStates.get(key.id) ?? {};
    if (Object.keys(rest).length) cardStates.set(key.id, rest);
    else cardStates.delete(key.id);
    render();
    const card = cardOf(key.id);
    const active = document.activeElement;
    if (!dialogs.busy && card && (!active || active === document.body || active === card)) {
      (card.querySelector<HTMLElement>(`.snooze-key[data-days="${days}"]`) ?? card).focus();
    }
  }

  /** Guided rotation: the dialog replaces the key; the list is reloaded for Rust's new order. */
  function startRotation(key: KeyView): void {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let enroll = false;
    let newId = key.id;
    openRotateDialog({
      key,
      now,
      returnFocus: () => buttonOf(key.id, 'rotate-key'),
      onEnroll: () => (enroll = true),
      onRotated: ({ key: updated }) => {
        cardStates.delete(key.id);
        newId = updated.id;
        announce(`Key “${updated.label}” rotated.`);
        void refresh();
      },
      onClosed: (rotated) => {
        dialogs.release(t);
        if (rotated) void refresh().then(() => focusCard(newId));
        if (enroll) startEnrollment(false);
      },
    });
  }

  /** The Edit dialog: the card shows Rust's answer at once; after a move the dialog stays open with
   * the re-verify result until closed. */
  function startEdit(key: KeyView): void {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let enroll = false;
    openEditDialog({
      key,
      keys,
      // Unknown 2FA state: ask for the code (Rust ignores it where none is needed).
      guardEnrolled: guard?.enrolled ?? true,
      onSaved: ({ key: updated, changes }) => {
        keys = keys.map((k) => (k.id === updated.id ? updated : k));
        cardStates.delete(updated.id);
        render();
        if (changes.length) announce(`Key “${updated.label}” saved: ${changes.join('; ')}.`);
      },
      onEnroll: () => (enroll = true),
      onClosed: () => {
        dialogs.release(t);
        if (enroll) startEnrollment(false);
        else buttonOf(key.id, 'edit-key').focus();
      },
      returnFocus: () => buttonOf(key.id, 'edit-key'),
    });
  }

  const buttonOf = (id: string, cls: string): HTMLElement =>
    cardOf(id)?.querySelector<HTMLElement>(`.${cls}`) ?? cardOf(id) ?? addButton;

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
      onEnroll: dialogs.handOver(t, () => startEnrollment(false)),
      returnFocus: () => buttonOf(key.id, 'delete-key'),
    });
    dialogs.release(t);
    if (!deleted) return;
    if (gone) {
      await refresh();
      return;
    }
    const i = keys.findIndex((k) => k.id === key.id);
    keys = keys.filter((k) => k.id !== key.id);
    cardStates.delete(key.id);
    render();
    announce(`Key “${key.label}” deleted.`);
    const neighbour =
      keys.filter((k) => k.status !== 'revoked')[Math.min(i, keys.length - 1)] ?? keys.find((k) => k.status !== 'revoked');
    if (neighbour) focusCard(neighbour.id);
    else (document.getElementById('add-first-key') ?? addButton).focus();
  }

  // ---- which keys bots may use ----------------------------------------------------------------------

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
          onEnroll: dialogs.handOver(t, () => startEnrollment(false)),
          returnFocus: () => buttonOf(key.id, 'bots-allowed'),
        });
        dialogs.release(t);
      }
    } catch (e) {
      showError(e as IpcError);
    }
    if (!updated) return;
    const changed = updated;
    keys = keys.map((k) => (k.id === changed.id ? changed : k));
    render();
    announce(changed.botsAllowed ? `Bots may now use “${changed.label}”.` : `Bots may no longer use “${changed.label}”.`);
    buttonOf(changed.id, 'bots-allowed').focus();
  }

  // ---- reveal and copy a secret (guarded) ----------------------------------------------------------

  async function reveal(key: KeyView): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    // 2FA may have been set up elsewhere (`latchkey 2fa enroll`): ask Rust before saying it is not.
    if (guard?.enrolled === false) await loadGuard();
    await startReveal(key, {
      enrolled: guard?.enrolled,
      onEnroll: dialogs.handOver(t, () => startEnrollment(false)),
      returnFocus: () => buttonOf(key.id, 'reveal-key'),
      onClosed: () => {
        dialogs.release(t);
      },
    });
  }

  async function copy(key: KeyView, part: SecretPart): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    // 2FA may have been set up elsewhere (`latchkey 2fa enroll`): ask Rust before saying it is not.
    if (guard?.enrolled === false) await loadGuard();
    await startCopy(key, part, {
      enrolled: guard?.enrolled,
      onEnroll: dialogs.handOver(t, () => startEnrollment(false)),
      returnFocus: () => buttonOf(key.id, 'copy-menu-toggle'),
      onClosed: () => {
        dialogs.release(t);
      },
    });
  }

  // ---- quarantined keys ---------------------------------------------------------------------------

  /** Retry revoke, wipe locally and "I deleted it": one guarded dialog each, then the report. */
  async function followUp(action: FollowUp, key: KeyView): Promise<void> {
    const t = dialogs.take();
    if (t === null) return;
    const report = await askCode<RevokeReport>({
      ...followUpDialog(action, key),
      unguarded: guard?.enrolled === false,
      onEnroll: dialogs.handOver(t, () => startEnrollment(false)),
      returnFocus: () => buttonOf(key.id, FOLLOW_UP_BUTTON[action]),
    });
    dialogs.release(t);
    if (report) showReport(report, key.id);
  }

  function showReport(report: RevokeReport, id: string): void {
    // Right after the dialog that ran the revoke freed the slot.
    const t = dialogs.take();
    if (t === null) return;
    openRevokeDialog({
      report,
      returnFocus: () => cardOf(id) ?? revokeButton,
      onEnroll: () => startEnrollment(false),
      onClosed: () => {
        dialogs.release(t);
        void refresh();
      },
    });
  }

  // ---- emergency revoke ---------------------------------------------------------------------------

  function startRevoke(): void {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    let enroll = false;
    openRevokeDialog({
      returnFocus: () => revokeButton,
      onEnroll: () => (enroll = true),
      onClosed: (ran) => {
        dialogs.release(t);
        if (ran) void refresh();
        if (enroll) startEnrollment(false);
      },
    });
  }

  // ---- keychain items no key on the list describes -------------------------------------------------

  async function checkOrphans(): Promise<void> {
    // A locked or missing keychain is already reported; searching it would only ask to unlock.
    if (!keychainBanner.hidden) return;
    let found: Orphan[];
    try {
      found = await orphanKeys();
    } catch {
      return; // An older shell, or a keychain that cannot list its items: nothing to offer.
    }
    if (!found.length) return;
    const t = dialogs.take();
    if (t === null) return;
    let restored = false;
    openOrphansDialog({
      orphans: found,
      guarded: !!guard?.enrolled,
      returnFocus: () => addButton,
      onRestored: () => (restored = true),
      onClosed: () => {
        dialogs.release(t);
        if (restored) void refresh();
      },
    });
  }

  // ---- 2FA ----------------------------------------------------------------------------------------

  const loadGuard = async (): Promise<void> => {
    try {
      guard = await guardStatus();
    } catch {
      guard = null;
    }
    const enrolled = guard?.enrolled ?? null;
    guardButton.setAttribute('data-enrolled', String(enrolled));
    guardButton.querySelector('.btn-text')!.textContent = enrolled === false ? 'Set up 2FA' : '2FA';
    guardButton.title = enrolled
      ? 'Two-factor authentication is on'
      : enrolled === false
        ? 'Two-factor authentication is not set up'
        : 'Two-factor authentication';
    syncReminder();
  };

  /** The header's reminder: shown while keys exist and 2FA is not set up, whatever was chosen. */
  function syncReminder(): void {
    enrollBanner.hidden = !(guard?.enrolled === false && keys.some((k) => k.status !== 'revoked'));
  }

  function startEnrollment(reenroll: boolean): void {
    const t = dialogs.take();
    if (t === null) return;
    banner.clear();
    openEnrollment({
      reenroll,
      returnFocus: () => guardButton,
      onClosed: (enrolled) => {
        dialogs.release(t);
        if (enrolled) announce('Two-factor authentication is on.');
        void loadGuard();
      },
    });
  }

  async function startSecurity(): Promise<void> {
    if (dialogs.busy) return;
    await loadGuard();
    if (!guard || !guard.enrolled) {
      startEnrollment(false);
      return;
    }
    const t = dialogs.take();
    if (t === null) return;
    openSecurity({
      status: guard,
      now,
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
    if (off) announce('Two-factor authentication is off.');
    await loadGuard();
  }

  // ---- audit --------------------------------------------------------------------------------------

  async function showAudit(): Promise<void> {
    if (view === 'audit') {
      showKeys();
      return;
    }
    view = 'audit';
    auditButton.setAttribute('aria-pressed', 'true');
    settingsButton.setAttribute('aria-pressed', 'false');
    main.setAttribute('aria-busy', 'true');
    main.replaceChildren(h('p', { class: 'loading' }, 'Loading the audit log…'));
    try {
      const log = await auditLog(AUDIT_LIMIT);
      if (view !== 'audit') return;
      main.removeAttribute('aria-busy');
      main.replaceChildren(renderAuditView(log, showKeys));
      document.getElementById('audit-view')?.focus();
    } catch (e) {
      if (view !== 'audit') return;
      main.removeAttribute('aria-busy');
      const back = h('button', { type: 'button', id: 'close-audit', class: 'btn btn-secondary' }, 'Back to keys');
      back.addEventListener('click', showKeys);
      main.replaceChildren(h('section', { id: 'audit-view', class: 'load-failed' }, h('p', {}, (e as IpcError).message), back));
    }
  }

  function showKeys(): void {
    const from = view === 'settings' ? settingsButton : auditButton;
    view = 'keys';
    auditButton.setAttribute('aria-pressed', 'false');
    settingsButton.setAttribute('aria-pressed', 'false');
    void refresh().then(() => from.focus());
  }

  // ---- settings -----------------------------------------------------------------------------------

  const loadSettings = async (): Promise<void> => {
    try {
      settings = await getSettings();
    } catch {
      // An older shell, or the store is unavailable: the wizard keeps its built-in default.
    }
  };

  async function showSettings(): Promise<void> {
    if (view === 'settings') {
      showKeys();
      return;
    }
    view = 'settings';
    settingsButton.setAttribute('aria-pressed', 'true');
    auditButton.setAttribute('aria-pressed', 'false');
    banner.clear();
    main.setAttribute('aria-busy', 'true');
    main.replaceChildren(h('p', { class: 'loading' }, 'Loading settings…'));
    let loaded: Settings;
    try {
      loaded = await getSettings();
      settings = loaded;
    } catch (e) {
      if (view !== 'settings') return;
      main.removeAttribute('aria-busy');
      const back = h('button', { type: 'button', id: 'close-settings', class: 'btn btn-secondary' }, 'Back to keys');
      back.addEventListener('click', showKeys);
      main.replaceChildren(
        h('section', { id: 'settings-view', class: 'load-failed' }, h('p', {}, (e as IpcError).message), back),
      );
      return;
    }
    if (view !== 'settings') return;
    main.removeAttribute('aria-busy');
    main.replaceChildren(
      renderSettingsView(loaded, {
        onSaved: (saved) => {
          settings = saved;
          announce('Settings saved.');
        },
        onBack: showKeys,
      }),
    );
    document.getElementById('settings-view')?.focus();
  }

  addButton.addEventListener('click', () => {
    if (view !== 'keys') showKeys();
    startWizard(addButton);
  });
  revokeButton.addEventListener('click', () => startRevoke());
  guardButton.addEventListener('click', () => void startSecurity());
  auditButton.addEventListener('click', () => void showAudit());
  settingsButton.addEventListener('click', () => void showSettings());
  enrollStart.addEventListener('click', () => startEnrollment(false));

  markAfterPaint('latchkey:shown');
  // What the first screen shows comes first: the keys and the 2FA banner. The keychain probe (a
  // write and a read in the Secret Service) and the settings (the wizard's default) follow, so
  // they do not compete with it on a busy start (the list answered in ~35 ms beside them, ~15 alone).
  const firstScreen = Promise.all([refresh(), loadGuard()]);
  const ready = firstScreen.then(() => Promise.all([checkKeychain(), loadSettings()])).then(() => undefined);
  // Interactive: the first screen (keys, 2FA state) painted, every control on it working. The
  // background checks may land a frame later; a failed probe then shows its banner.
  void firstScreen.then(() => markAfterPaint('latchkey:interactive'));
  void ready.then(() => markAfterPaint('latchkey:checks-done'));
  // Keychain items no key on the list describes: offered back once the rest is done.
  void ready.then(() => checkOrphans());
  return { refresh, openWizard: () => startWizard(), ready };
}
