// The key list and its empty state. Rendering only: the app decides what happens on a click.

import type { FixKind, KeyView } from '../api/types';
import { afterPaint } from '../lib/paint';
import { h, icon } from '../lib/dom';
import { ipText, sortFindings, verifiedText, worstSeverity } from '../lib/risk';
import { renderFindings, renderPermissions } from '../lib/risk-view';
import { ageText, environmentLabel, exchangeName, fullDate, isStillLive, provedText, rotationDue, statusText } from './format';
import { linkRow } from '../lib/link-row';
import { renderDueSummary, renderRotationBadge, renderRotationRow } from './rotation';
import { renderSecretActions, type SecretHandlers } from '../secrets/secrets';
import { renderAgentButton, renderBotsToggle } from './bots';
import { renderOperations } from './automation';
import { renderEmptyState } from './empty-state';

/** `onReveal` / `onCopy` (from `SecretHandlers`): the guarded Reveal and Copy secret actions. */
export interface DashboardHandlers extends SecretHandlers {
  onAdd: () => void;
  onDelete: (key: KeyView) => void;
  onRecheck: (key: KeyView) => void;
  /** A quarantined key: try the remote revoke again. */
  onRetryRevoke?: (key: KeyView) => void;
  /** A quarantined or still-live key: wipe its secret without the exchange's confirmation. */
  onWipe?: (key: KeyView) => void;
  /** A still-live or quarantined key the user deleted on the website: Rust proves it, then wipes. */
  onConfirmDeleted?: (key: KeyView) => void;
  /** Silence this key's reminders for 1 or 7 days. */
  onSnooze?: (key: KeyView, days: 1 | 7) => void;
  /** Open the guided rotation. */
  onRotate?: (key: KeyView) => void;
  /** "Bots may use this key" toggled: `allowed` is what the user asks for (on asks for a code). */
  onBotsAllowed?: (key: KeyView, allowed: boolean) => void;
  /** Open the signing agent dialog (the key's bots, placeholders for a new one). */
  onAgent?: (key: KeyView) => void;
  /** Open the Edit dialog (label, rotation policy, environment, bots). */
  onEdit?: (key: KeyView) => void;
  /** Fix a finding through the key's master. */
  onFix?: (key: KeyView, kind: FixKind) => void;
  /** The card's servers row (deliver to OpenBao, the hosts' last reads), or null. */
  renderServers?: (key: KeyView) => HTMLElement | null;
}

/** What the app knows about cards beyond the keys themselves. */
export interface CardState {
  /** A Re-check is under way. */
  checking?: boolean;
  /** The last Re-check failed with this message (from Rust). */
  error?: string | null;
  /** A snooze is being saved. */
  snoozing?: boolean;
}

export type CardStates = ReadonlyMap<string, CardState>;

const REFRESH = ['M20 11a8 8 0 0 0-14.9-3.9L4 9', 'M4 4v5h5', 'M4 13a8 8 0 0 0 14.9 3.9L20 15', 'M20 20v-5h-5'];
const TRASH = ['M4 7h16', 'M10 11v6', 'M14 11v6', 'M6 7l1 13h10l1-13', 'M9 7V4h6v3'];

export function renderKeyCard(key: KeyView, now: Date, handlers: DashboardHandlers, state: CardState = {}): HTMLLIElement {
  const env = environmentLabel(key.environment);
  const due = rotationDue(key, now);
  const labelId = `key-${key.id}-label`;
  const findings = sortFindings(key.findings ?? []);
  const worst = worstSeverity(findings);
  const inspection = key.inspection ?? null;
  const permissions = inspection?.permissions ?? key.permissions ?? [];
  const ips = inspection
    ? ipText(inspection)
    : key.ipWhitelist?.length
      ? ipText({ ipRestricted: true, ipWhitelist: key.ipWhitelist })
      : null;
  const checking = !!state.checking;
  const recheck = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-secondary btn-small recheck-key',
      'aria-label': `Re-check key ${key.label} with ${exchangeName(key.exchange)}`,
      title: `Ask ${exchangeName(key.exchange)} again what this key may do`,
      disabled: checking,
      hidden: key.status !== 'active' && key.status !== 'rejected',
    },
    icon(REFRESH),
    h('span', { class: 'btn-text' }, checking ? 'Checking…' : 'Re-check'),
  );
  recheck.addEventListener('click', () => handlers.onRecheck(key));
  const del = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-danger-quiet delete-key',
      'aria-label': `Delete key ${key.label}`,
      title: 'Delete this key',
    },
    icon(TRASH),
    h('span', { class: 'btn-text' }, 'Delete'),
  );
  del.addEventListener('click', () => handlers.onDelete(key));
  const quarantined = key.status === 'quarantined';
  const retry = quarantined
    ? h(
        'button',
        {
          type: 'button',
          class: 'btn btn-secondary btn-small retry-revoke',
          'aria-label': `Retry revoking key ${key.label} at ${exchangeName(key.exchange)}`,
        },
        'Retry revoke',
      )
    : null;
  retry?.addEventListener('click', () => handlers.onRetryRevoke?.(key));
  const wipe = quarantined
    ? h(
        'button',
        {
          type: 'button',
          class: 'btn btn-danger-quiet btn-small wipe-locally',
          'aria-label': `Wipe key ${key.label} locally anyway`,
        },
        'Wipe locally anyway',
      )
    : null;
  wipe?.addEventListener('click', () => handlers.onWipe?.(key));
  const stillLive = isStillLive(key.status);
  // A key a revoke is ending (still live, or quarantined until the revoke is proved) is not due for
  // a rotation: no due date (its row keeps the history; snoozing is for active keys only).
  const noRotation = stillLive || quarantined;
  const rotate =
    key.status === 'active' && handlers.onRotate
      ? h(
          'button',
          {
            type: 'button',
            class: 'btn btn-secondary btn-small rotate-key',
            'aria-haspopup': 'dialog',
            'aria-label': `Rotate key ${key.label}: replace it with a new one`,
          },
          'Rotate…',
        )
      : null;
  rotate?.addEventListener('click', () => handlers.onRotate?.(key));
  // Every key in use can be edited: a quarantined key's wrong base URL is fixed here.
  const editButton =
    key.status !== 'revoked' && handlers.onEdit
      ? h(
          'button',
          {
            type: 'button',
            class: 'btn btn-secondary btn-small edit-key',
            'aria-haspopup': 'dialog',
            'aria-label': `Edit key ${key.label}: label, rotation, environment`,
          },
          'Edit…',
        )
      : null;
  editButton?.addEventListener('click', () => handlers.onEdit?.(key));

  return h(
    'li',
    {
      class: `key-card status-${key.status}${worst ? ` risk-${worst}` : ''}`,
      'data-testid': 'key-card',
      'data-label': key.label,
      'data-id': key.id,
      'data-severity': worst ?? undefined,
      'aria-labelledby': labelId,
      'aria-busy': checking ? 'true' : undefined,
      tabindex: -1,
    },
    h(
      'div',
      { class: 'key-top' },
      h(
        'span',
        { class: `exchange-mark exchange-${key.exchange}`, 'aria-hidden': 'true' },
        exchangeName(key.exchange).slice(0, 1),
      ),
      h(
        'div',
        { class: 'key-title' },
        h('h3', { class: 'key-label', id: labelId }, key.label),
        h(
          'p',
          { class: 'key-meta' },
          h('span', { class: 'key-exchange' }, exchangeName(key.exchange)),
          env
            ? h('span', { class: 'key-env', title: key.environment.kind === 'custom' ? key.environment.baseUrl : undefined }, env)
            : null,
        ),
      ),
      // A key still live or quarantined after a revoke is to be ended, not rotated.
      noRotation ? null : renderRotationBadge(key),
      h('span', { class: `badge key-status badge-${key.status}`, 'data-status': key.status }, statusText(key)),
    ),
    renderFindings(findings),
    renderOperations(key, now, handlers.onFix && ((kind) => handlers.onFix?.(key, kind))),
    h(
      'div',
      { class: 'key-facts' },
      inspection || permissions.length ? renderPermissions(permissions) : null,
      ips
        ? h(
            'span',
            {
              class: `key-ips${(inspection?.ipWhitelist ?? key.ipWhitelist ?? []).length ? ' mono' : ''}`,
              title: (inspection?.ipWhitelist ?? key.ipWhitelist ?? []).join(', ') || undefined,
            },
            ips,
          )
        : null,
      h(
        'span',
        {
          class: `key-verified${key.verifiedAt ? '' : ' unverified'}`,
          title: key.verifiedAt ? `Verified ${fullDate(key.verifiedAt)}` : undefined,
        },
        verifiedText(key.verifiedAt, now),
      ),
      renderBotsToggle(key, handlers.onBotsAllowed),
      renderAgentButton(key, handlers.onAgent),
    ),
    stillLive ? null : renderRotationRow(key, now, handlers, !!state.snoozing),
    handlers.renderServers?.(key) ?? null,
    quarantined
      ? h(
          'div',
          { class: 'quarantine-note' },
          h(
            'p',
            {},
            `Emergency revoke could not prove this key revoked at ${exchangeName(key.exchange)}. Its secret is kept so the revoke can be retried; it is blocked from use.`,
          ),
          h('div', { class: 'quarantine-actions' }, retry, wipe, confirmButton(key, handlers, 'I deleted it on the website')),
        )
      : null,
    stillLive ? renderStillLive(key, handlers) : null,
    key.status === 'revoked'
      ? h(
          'p',
          { class: 'revoked-proof', title: key.revokedAt ? fullDate(key.revokedAt) : undefined },
          key.revokedAt
            ? `${exchangeName(key.exchange)}: ${provedText(key.revokedAt)}`
            : `Revoked before Latchkey proved revokes`,
        )
      : null,
    key.status === 'rejected'
      ? h(
          'p',
          { class: 'rejected-note' },
          `${exchangeName(key.exchange)} refused this key at the last check: it was deleted there or has expired, so bots using it fail. Create a new key on ${exchangeName(key.exchange)} and add it, then delete this one; Re-check if you think ${exchangeName(key.exchange)} was wrong.`,
        )
      : null,
    state.error ? h('p', { class: 'card-error', role: 'alert' }, state.error) : null,
    h(
      'div',
      { class: 'key-bottom' },
      h('code', { class: 'key-hint', title: 'Masked API key' }, key.keyHint),
      h('span', { class: 'key-age', title: `Added ${fullDate(key.createdAt)}` }, ageText(key, now)),
      !noRotation && key.rotation === undefined && due.text
        ? h('span', { class: `key-due${due.overdue ? ' overdue' : due.soon ? ' soon' : ''}` }, due.text)
        : null,
      h('span', { class: 'spacer' }),
      key.status === 'still_live_wiped' ? null : renderSecretActions(key, handlers),
      rotate,
      editButton,
      recheck,
      del,
    ),
  );
}

function confirmButton(key: KeyView, handlers: DashboardHandlers, text: string): HTMLButtonElement {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-secondary btn-small confirm-deleted',
      'aria-label': `I deleted key ${key.label} on ${exchangeName(key.exchange)}: prove it and wipe the secret`,
    },
    text,
  );
  button.addEventListener('click', () => handlers.onConfirmDeleted?.(key));
  return button;
}

/** In red until resolved: the key still works at the exchange. */
function renderStillLive(key: KeyView, handlers: DashboardHandlers): HTMLElement {
  const ex = exchangeName(key.exchange);
  const wiped = key.status === 'still_live_wiped';
  const wipeHere = wiped
    ? null
    : h(
        'button',
        {
          type: 'button',
          class: 'btn btn-danger-quiet btn-small wipe-locally',
          'aria-label': `Wipe the secret of key ${key.label} here now; it stays live at ${ex}`,
        },
        'Wipe the secret here now',
      );
  wipeHere?.addEventListener('click', () => handlers.onWipe?.(key));
  return h(
    'div',
    { class: 'still-live-note', role: 'status', 'data-testid': 'still-live' },
    h('p', { class: 'still-live-title' }, `Still live at ${ex} — delete it on the website`),
    key.stillLiveUrl ? linkRow(key.stillLiveUrl) : null,
    h(
      'p',
      { class: 'muted' },
      wiped
        ? 'Its secret was wiped here at your request, so Latchkey cannot prove it is gone: delete it on the website, then delete it here.'
        : 'Blocked from use; its secret is kept until you delete it on the website and Latchkey proves it with a signed call.',
    ),
    wiped ? null : h('div', { class: 'quarantine-actions' }, confirmButton(key, handlers, 'I deleted it — confirm'), wipeHere),
  );
}

/** How the list is built: the first `eager` live cards at once, the rest in later tasks. */
export interface ListOptions {
  /** Cards built before the list is shown; the default builds them all at once. */
  eager?: number;
  /** Called once the first cards have been painted, before the rest are built. */
  onShown?: () => void;
  /** Called once every card is in the list. */
  onComplete?: () => void;
}

/** Cards appended per task after the eager ones: small enough that a click never waits long. */
const CHUNK = 100;

/** Live keys first; revoked keys greyed in a collapsed "Revoked keys" section at the bottom.
 * With many keys, only the first `eager` cards are built before the list is shown (a screenful
 * paints in well under 100 ms); the rest are appended in chunks right after, and stop if the list
 * was replaced in the meantime. */
export function renderKeyList(
  keys: readonly KeyView[],
  now: Date,
  handlers: DashboardHandlers,
  states: CardStates = new Map(),
  revokedOpen = false,
  options: ListOptions = {},
): HTMLElement {
  if (keys.length === 0) {
    afterPaint(() => {
      options.onShown?.();
      options.onComplete?.();
    });
    return renderEmptyState(handlers);
  }
  const live = keys.filter((k) => k.status !== 'revoked');
  const revoked = keys.filter((k) => k.status === 'revoked');
  const eager = Math.max(0, options.eager ?? Infinity);
  const card = (k: KeyView): HTMLLIElement => renderKeyCard(k, now, handlers, states.get(k.id));
  const list = live.length ? h('ul', { class: 'key-list', id: 'key-list' }, ...live.slice(0, eager).map(card)) : null;
  let next = Math.min(eager, live.length);
  const appendRest = (): void => {
    if (!list || next >= live.length) {
      options.onComplete?.();
      return;
    }
    // A newer render replaced this list: its cards are stale, stop here.
    if (!list.isConnected) return;
    const end = Math.min(next + CHUNK, live.length);
    list.append(...live.slice(next, end).map(card));
    next = end;
    setTimeout(appendRest, 0);
  };
  // The rest starts once the first cards are on screen, so they paint without waiting for it.
  afterPaint(() => {
    options.onShown?.();
    appendRest();
  });
  return h(
    'section',
    { class: 'keys', 'aria-labelledby': 'keys-title' },
    renderDueSummary(live),
    h('h2', { id: 'keys-title', class: 'section-title' }, `Your keys `, h('span', { class: 'count' }, `(${live.length})`)),
    list ?? h('p', { class: 'muted no-live-keys' }, 'No active keys.'),
    revoked.length
      ? h(
          'details',
          { id: 'revoked-keys', class: 'revoked-keys', open: revokedOpen },
          h('summary', {}, `Revoked keys (${revoked.length})`),
          h('ul', { class: 'key-list key-list-revoked' }, ...revoked.map(card)),
        )
      : null,
  );
}
