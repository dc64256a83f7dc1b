// Reveal and copy a key's secret. Both are guarded: the code prompt (`#guard-code`) sends the code
// with the request and Rust checks it before reading the keychain.
//
// Reveal: the values Rust returns are shown in `.revealed-secret` (`.revealed-value[data-part]`) with
// a countdown; after `visibleForSecs`, on "Hide now", Escape, the window losing focus or being hidden,
// the panel leaves the DOM and the values are dropped from every JS variable this module holds.
// Copy: Rust puts the part on the system clipboard and clears it later; the UI only says so.
// Without 2FA neither can work (Rust refuses): that is said first (`#secret-needs-2fa`), with the
// way to set it up, instead of asking for a code that cannot exist.

import { copySecret, revealSecret } from '../api/commands';
import { needsPassphrase } from '../api/exchanges';
import type { KeyView, RevealedSecret, SecretPart } from '../api/types';
import { askCode } from '../guard/ask-code';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import { exchangeName } from '../dashboard/format';

export const PART_NAMES: Record<SecretPart, string> = {
  apiKey: 'API key',
  apiSecret: 'API secret',
  passphrase: 'passphrase',
};

/** Which parts a key has: a passphrase only for the exchanges whose keys have one. */
export function partsOf(key: Pick<KeyView, 'exchange'>): SecretPart[] {
  return needsPassphrase(key.exchange) ? ['apiKey', 'apiSecret', 'passphrase'] : ['apiKey', 'apiSecret'];
}

export interface SecretHandlers {
  onReveal?: (key: KeyView) => void;
  onCopy?: (key: KeyView, part: SecretPart) => void;
}

/** The card's "Reveal" button and "Copy secret" menu; null for revoked keys (their secret is gone). */
export function renderSecretActions(key: KeyView, handlers: SecretHandlers): HTMLElement | null {
  if (key.status === 'revoked' || (!handlers.onReveal && !handlers.onCopy)) return null;
  const reveal = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-secondary btn-small reveal-key',
      'aria-label': `Reveal the secret of key ${key.label}`,
      title: 'Show the key and its secret for 30 seconds (asks for a 2FA code)',
    },
    'Reveal',
  );
  reveal.addEventListener('click', () => handlers.onReveal?.(key));
  const menu = h(
    'details',
    { class: 'copy-menu' },
    h(
      'summary',
      {
        class: 'btn btn-secondary btn-small copy-menu-toggle',
        'aria-label': `Copy a secret of key ${key.label}`,
        title: 'Copy to the clipboard, cleared after 30 seconds (asks for a 2FA code)',
      },
      'Copy secret',
    ),
    h(
      'div',
      { class: 'copy-menu-items', role: 'group', 'aria-label': 'Copy which part' },
      ...partsOf(key).map((part) => {
        const b = h(
          'button',
          { type: 'button', class: 'btn btn-quiet btn-small copy-secret', 'data-part': part },
          `Copy ${PART_NAMES[part]}`,
        );
        b.addEventListener('click', () => {
          menu.open = false;
          handlers.onCopy?.(key, part);
        });
        return b;
      }),
    ),
  );
  return h('span', { class: 'secret-actions' }, reveal, menu);
}

export interface SecretDialogOptions {
  /** The guard's state as last loaded; `false` says "2FA is not set up" before any code prompt. */
  enrolled?: boolean | null;
  onEnroll?: () => void;
  returnFocus?: () => HTMLElement | null;
  /** Called once the flow is over (the panel closed, the copy notice shown, or cancelled). */
  onClosed?: () => void;
}

/** Before any code prompt, when 2FA is not set up: says so, and where to set it up. Resolves once
 * closed; "Set up 2FA" calls `onEnroll` after closing. */
export function showNeeds2fa(what: string, opts: SecretDialogOptions): Promise<void> {
  return new Promise((resolve) => {
    const enroll = h('button', { type: 'button', id: 'secret-enroll', class: 'btn btn-primary' }, 'Set up 2FA');
    const close = h('button', { type: 'button', id: 'secret-needs-2fa-close', class: 'btn btn-secondary' }, 'Close');
    let done = false;
    const finish = (then?: () => void): void => {
      if (done) return;
      done = true;
      modal.close();
      resolve();
      then?.();
    };
    const modal = openModal(
      {
        id: 'secret-needs-2fa',
        labelledBy: 'secret-needs-2fa-title',
        describedBy: 'secret-needs-2fa-desc',
        className: 'dialog-small',
        onEscape: () => finish(),
        returnFocus: opts.returnFocus,
      },
      h('h2', { id: 'secret-needs-2fa-title' }, '2FA is not set up'),
      h(
        'div',
        { id: 'secret-needs-2fa-desc', class: 'dialog-body' },
        h(
          'p',
          {},
          `${what} needs a code from an authenticator app, so Latchkey keeps it locked until two-factor authentication is set up.`,
        ),
        h(
          'p',
          { class: 'muted' },
          'Setting it up takes a minute: here, or later with the “Set up 2FA” button at the top of the window.',
        ),
      ),
      h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), close, enroll),
    );
    close.addEventListener('click', () => finish());
    enroll.addEventListener('click', () => finish(opts.onEnroll));
    enroll.focus();
  });
}

/** Asks for a code, then shows the revealed values until the timer runs out. */
export async function startReveal(key: KeyView, opts: SecretDialogOptions = {}): Promise<void> {
  if (opts.enrolled === false) {
    await showNeeds2fa('Revealing a secret', opts);
    opts.onClosed?.();
    return;
  }
  const revealed = await askCode<RevealedSecret>({
    ids: { dialog: 'reveal-dialog', title: 'reveal-title', cancel: 'reveal-cancel', confirm: 'reveal-confirm' },
    title: `Reveal “${key.label}”?`,
    body: [
      h(
        'p',
        {},
        `The ${exchangeName(key.exchange)} key `,
        h('code', {}, key.keyHint),
        ' and its secret will be shown for 30 seconds.',
      ),
      h('p', { class: 'muted' }, 'Make sure nobody can see your screen.'),
    ],
    confirmLabel: 'Reveal',
    busyLabel: 'Checking…',
    run: (code) => revealSecret(key.id, code),
    onEnroll: opts.onEnroll,
    returnFocus: opts.returnFocus,
  });
  if (!revealed) {
    opts.onClosed?.();
    return;
  }
  showRevealed(key, revealed, opts);
}

/** The panel with the values. Exported for tests. */
export function showRevealed(key: KeyView, revealed: RevealedSecret, opts: SecretDialogOptions = {}): void {
  const secs = Math.max(1, Math.floor(revealed.visibleForSecs || 30));
  const rows: HTMLElement[] = [];
  const values: HTMLElement[] = [];
  const parts: [SecretPart, string | null][] = [
    ['apiKey', revealed.apiKey],
    ['apiSecret', revealed.apiSecret],
    ['passphrase', revealed.passphrase],
  ];
  for (const [part, value] of parts) {
    if (value === null || value === undefined) continue;
    const v = h('code', { class: 'revealed-value', 'data-part': part }, value);
    values.push(v);
    rows.push(h('div', { class: 'summary-row' }, h('dt', {}, PART_NAMES[part]), h('dd', {}, v)));
  }
  // The reply object is the last JS reference to the values besides the text nodes: drop them.
  wipe(revealed);
  parts.length = 0;

  let left = secs;
  const countdown = h('span', { class: 'reveal-countdown', 'data-seconds': left }, String(left));
  const countdownText = h('p', { class: 'reveal-timer', role: 'timer', 'aria-live': 'off' }, 'Hidden in ', countdown, ' s');
  const hide = h('button', { type: 'button', id: 'reveal-hide', class: 'btn btn-primary' }, 'Hide now');
  const modal = openModal(
    {
      id: 'reveal-panel',
      labelledBy: 'reveal-panel-title',
      className: 'dialog-small revealed-secret',
      onEscape: () => close(),
      returnFocus: opts.returnFocus,
    },
    h('h2', { id: 'reveal-panel-title' }, `“${key.label}”`),
    h('dl', { class: 'summary revealed-values' }, ...rows),
    countdownText,
    h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), hide),
  );

  const tick = window.setInterval(() => {
    left -= 1;
    if (left <= 0) {
      close();
      return;
    }
    countdown.textContent = String(left);
    countdown.setAttribute('data-seconds', String(left));
  }, 1000);
  const onBlur = (): void => close();
  const onVisibility = (): void => {
    if (document.visibilityState === 'hidden') close();
  };
  window.addEventListener('blur', onBlur);
  document.addEventListener('visibilitychange', onVisibility);
  hide.addEventListener('click', () => close());
  hide.focus();

  let closed = false;
  function close(): void {
    if (closed) return;
    closed = true;
    window.clearInterval(tick);
    window.removeEventListener('blur', onBlur);
    document.removeEventListener('visibilitychange', onVisibility);
    for (const v of values) v.textContent = '';
    values.length = 0;
    rows.length = 0;
    modal.close();
    opts.onClosed?.();
  }
}

/** Drops the values from the reply object (strings cannot be overwritten in JS; references can). */
function wipe(r: RevealedSecret): void {
  r.apiKey = '';
  r.apiSecret = '';
  r.passphrase = null;
}

/** Asks for a code, has Rust copy the part, then says when the clipboard clears. */
export async function startCopy(key: KeyView, part: SecretPart, opts: SecretDialogOptions = {}): Promise<void> {
  if (opts.enrolled === false) {
    await showNeeds2fa(`Copying the ${PART_NAMES[part]}`, opts);
    opts.onClosed?.();
    return;
  }
  const result = await askCode({
    ids: { dialog: 'copy-dialog', title: 'copy-title', cancel: 'copy-cancel', confirm: 'copy-confirm' },
    title: `Copy the ${PART_NAMES[part]} of “${key.label}”?`,
    body: [h('p', {}, 'It goes to the clipboard and is removed from it after 30 seconds, unless you copy something else first.')],
    confirmLabel: 'Copy',
    busyLabel: 'Copying…',
    run: (code) => copySecret(key.id, code, part),
    onEnroll: opts.onEnroll,
    returnFocus: opts.returnFocus,
  });
  if (result) showCopied(part, result.clearsInSecs);
  opts.onClosed?.();
}

let noticeTimer: number | undefined;

/** "Copied — clipboard clears in 30 s", outside the key list so a re-render keeps it. */
export function showCopied(part: SecretPart, clearsInSecs: number): void {
  document.getElementById('copy-notice')?.remove();
  window.clearTimeout(noticeTimer);
  const secs = Math.max(1, Math.floor(clearsInSecs || 30));
  const notice = h(
    'div',
    { id: 'copy-notice', class: 'copy-notice', role: 'status', 'data-part': part },
    `Copied — clipboard clears in ${secs} s`,
    h('span', { class: 'visually-hidden' }, ` (${PART_NAMES[part]})`),
  );
  document.body.appendChild(notice);
  noticeTimer = window.setTimeout(() => notice.remove(), secs * 1000);
}
