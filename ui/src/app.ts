// The window: header, banners, the key list, and the dialogs it opens. The parts live in ./app/:
// the header's elements, the card actions, the key, revoke and 2FA dialogs, the audit and
// settings views, the checks after start-up. What the first screen does not show loads on first
// use (./app/dialogs), and in the background once the first screen is up.

import { listKeys } from './api/commands';
import type { FixKind, IpcError, KeyView, SecretPart } from './api/types';
import { renderKeyList, type CardState, type ListOptions } from './dashboard/dashboard';
import { isStillLive } from './dashboard/format';
import { Banner } from './lib/banner';
import { DialogSlot } from './lib/dialog-slot';
import { h } from './lib/dom';
import { mark, markAfterPaint } from './lib/marks';
import type { Wizard } from './wizard/wizard';
import { recheck, snooze } from './app/card-actions';
import type { AppContext, AppState } from './app/context';
import { preloadDialogs } from './app/dialogs';
import { guardDialogs } from './app/guard-dialogs';
import { renderHeader } from './app/header';
import { keyDialogs } from './app/key-dialogs';
import { revokeDialogs } from './app/revoke-dialogs';
import { checkKeychain, checkOrphans } from './app/startup-checks';
import { views } from './app/views';
import { serverActions } from './app/server-actions';

export interface AppOptions {
  /** The clock, for tests. */
  now?: () => Date;
}

export interface App {
  refresh(): Promise<void>;
  /** The wizard; null while its code is still loading (it opens once loaded). */
  openWizard(): Wizard | null;
  /** The first screen and the checks after it are done, and the dialogs' code is loaded. */
  readonly ready: Promise<void>;
}

/** Cards built before a re-rendered list is shown: more than a tall window holds, so a list the
 * user has scrolled keeps its height while the rest is appended. */
const EAGER_CARDS = 40;
/** Cards built before the window's very first frame, where nothing is scrolled yet: a screenful
 * (a card is ~190 px tall). Each card more costs the first frame ~1.5 ms. */
const FIRST_SCREEN_CARDS = 10;
/** The card buttons whose counterpart keeps focus when the list is drawn again. */
const CARD_CONTROLS = [
  'recheck-key',
  'delete-key',
  'retry-revoke',
  'wipe-locally',
  'confirm-deleted',
  'rotate-key',
  'reveal-key',
  'deliver-key',
  'undeliver-key',
  'refresh-reads',
];

export function mountApp(root: HTMLElement, options: AppOptions = {}): App {
  const state: AppState = { keys: [], guard: null, settings: null, lastEnvironment: undefined, view: 'keys', wizard: null };
  const cardStates = new Map<string, CardState>();
  const banner = new Banner();
  const header = renderHeader();
  const keychainBanner = h('div', { id: 'keychain-banner', class: 'banner banner-warning', role: 'alert', hidden: true });
  const status = h('p', { id: 'status', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const main = h('main', { id: 'main', class: 'app-main', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading keys…'));
  const bannerSlot = h('div', { class: 'banner-slot' }, keychainBanner);
  root.replaceChildren(header.element, bannerSlot, main, status);
  banner.mountIn(bannerSlot);

  const cardOf = (id: string): HTMLElement | null =>
    main.querySelector<HTMLElement>(`[data-testid=key-card][data-id="${CSS.escape(id)}"]`);

  const ctx: AppContext = {
    state,
    now: options.now ?? (() => new Date()),
    header,
    main,
    banner,
    bannerSlot,
    keychainBanner,
    dialogs: new DialogSlot(() => state.wizard !== null),
    cardStates,
    render: (timing) => render(timing),
    refresh: () => refresh(),
    announce: (text) => {
      status.textContent = text;
    },
    showError: (err) => banner.show(err.message),
    cardOf,
    buttonOf: (id, cls) => cardOf(id)?.querySelector<HTMLElement>(`.${cls}`) ?? cardOf(id) ?? header.addButton,
    focusCard: (id) => (cardOf(id) ?? header.addButton).focus(),
    loadGuard: () => guard.loadGuard(),
    startEnrollment: (reenroll) => guard.startEnrollment(reenroll),
  };
  const guard = guardDialogs(ctx);
  const keyActions = keyDialogs(ctx);
  const revoke = revokeDialogs(ctx);
  const servers = serverActions(ctx);
  const view = views(ctx, servers);

  const handlers = {
    onAdd: () => void keyActions.startWizard(document.getElementById('add-first-key')),
    onDelete: (key: KeyView) => void keyActions.removeKey(key),
    onRecheck: (key: KeyView) => void recheck(ctx, key),
    onRetryRevoke: (key: KeyView) => void revoke.followUp('retry', key),
    onWipe: (key: KeyView) => void revoke.followUp('wipe', key),
    onConfirmDeleted: (key: KeyView) => void revoke.followUp('confirmDeleted', key),
    onSnooze: (key: KeyView, days: 1 | 7) => void snooze(ctx, key, days),
    onRotate: (key: KeyView) => keyActions.startRotation(key),
    onReveal: (key: KeyView) => void keyActions.reveal(key),
    onCopy: (key: KeyView, part: SecretPart) => void keyActions.copy(key, part),
    onBotsAllowed: (key: KeyView, allowed: boolean) => void keyActions.botsAccess(key, allowed),
    onAgent: (key: KeyView) => void keyActions.agent(key),
    onEdit: (key: KeyView) => keyActions.startEdit(key),
    onFix: (key: KeyView, kind: FixKind) => keyActions.startFix(key, kind),
    renderServers: (key: KeyView) => servers.row(key),
  };

  /** Re-renders the list; focus on a card or one of its buttons stays on its counterpart. With
   * many keys the first cards (and the focused one) are built at once, the rest right after
   * (see `renderKeyList`). */
  function render(timing: Pick<ListOptions, 'onShown' | 'onComplete'> = {}): void {
    if (state.view !== 'keys') return;
    const { keys } = state;
    const active = document.activeElement;
    const card =
      active instanceof HTMLElement && main.contains(active) ? active.closest<HTMLElement>('[data-testid=key-card]') : null;
    guard.syncReminder();
    const live = keys.filter((k) => isStillLive(k.status)).length;
    const { stillLiveCount } = header;
    stillLiveCount.hidden = live === 0;
    stillLiveCount.textContent = live === 1 ? '1 key still live' : `${live} keys still live`;
    stillLiveCount.title =
      'Keys an emergency revoke could not end at their exchange: delete them on the website, then confirm on their card.';
    const control =
      card && active !== card ? CARD_CONTROLS.find((c) => (active as HTMLElement).classList.contains(c)) : undefined;
    const revokedOpen = !!main.querySelector<HTMLDetailsElement>('#revoked-keys')?.open;
    main.removeAttribute('aria-busy');
    const focusedAt = card?.dataset.id ? keys.findIndex((k) => k.id === card.dataset.id) : -1;
    const eager = Math.max(main.querySelector('#key-list') ? EAGER_CARDS : FIRST_SCREEN_CARDS, focusedAt + 1);
    main.replaceChildren(renderKeyList(keys, ctx.now(), handlers, cardStates, revokedOpen, { eager, ...timing }));
    if (card?.dataset.id) {
      const again = cardOf(card.dataset.id);
      const target = control ? again?.querySelector<HTMLElement>(`.${control}`) : again;
      (target && !target.hasAttribute('disabled') ? target : again)?.focus();
    }
  }

  /** The first load of the list is timed for the benchmarks (bench/run.sh). */
  let firstLoad = true;
  async function refresh(): Promise<void> {
    if (state.view !== 'keys') return;
    const timed = firstLoad;
    firstLoad = false;
    try {
      if (timed) mark('latchkey:list-call');
      state.keys = await listKeys();
      if (timed) mark('latchkey:list-reply');
      render(
        timed ? { onShown: () => mark('latchkey:list-painted'), onComplete: () => markAfterPaint('latchkey:list-complete') } : {},
      );
      if (timed) mark('latchkey:list-rendered');
    } catch (e) {
      ctx.showError(e as IpcError);
      const retry = h('button', { type: 'button', id: 'retry-load', class: 'btn btn-secondary' }, 'Try again');
      retry.addEventListener('click', () => void refresh());
      main.removeAttribute('aria-busy');
      main.replaceChildren(h('div', { class: 'load-failed' }, h('p', {}, 'The key list could not be loaded.'), retry));
    }
  }

  // Keys changed outside this page (the CLI in another process, a notification's Snooze): Rust
  // says so (src-tauri/store_watch.rs, src-tauri/tray.rs).
  window.addEventListener('latchkey-keys-changed', () => void refresh());

  header.addButton.addEventListener('click', () => {
    if (state.view !== 'keys') view.showKeys();
    keyActions.startWizard(header.addButton);
  });
  header.revokeButton.addEventListener('click', () => revoke.startRevoke());
  header.guardButton.addEventListener('click', () => void guard.startSecurity());
  header.auditButton.addEventListener('click', () => void view.showAudit());
  header.settingsButton.addEventListener('click', () => void view.showSettings());
  header.enrollStart.addEventListener('click', () => guard.startEnrollment(false));

  markAfterPaint('latchkey:shown');
  // What the first screen shows comes first: the keys and the 2FA banner. The keychain probe (a
  // write and a read in the Secret Service) and the settings (the wizard's default) follow, so
  // they do not compete with it on a busy start (the list answered in ~35 ms beside them, ~15 alone).
  const firstScreen = Promise.all([refresh(), guard.loadGuard()]);
  const checks = firstScreen.then(() => Promise.all([checkKeychain(ctx), view.loadSettings()])).then(() => undefined);
  // Interactive: the first screen (keys, 2FA state) painted, every control on it working. The
  // background checks may land a frame later; a failed probe then shows its banner.
  void firstScreen.then(() => markAfterPaint('latchkey:interactive'));
  void checks.then(() => markAfterPaint('latchkey:checks-done'));
  // Keychain items no key on the list describes: offered back once the checks are in (right
  // away, as before the dialogs loaded lazily: later, another process's half-written key could
  // look like one).
  void checks.then(() => checkOrphans(ctx));
  // Which keys are on the OpenBao server and who read them: after the first screen (a network call).
  void checks.then(() => servers.load());
  // The dialogs' code, fetched once the checks are in (a click before then waits for its chunk).
  const ready = checks.then(preloadDialogs).catch(() => undefined);
  return { refresh, openWizard: () => keyActions.startWizard(), ready };
}
