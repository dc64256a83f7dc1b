// What a key card says about rotation: the badge (Rust's state and text), "Snoozed until …", the
// snooze buttons, the "Replaced … on …" history line, and the dashboard's "N keys need rotation".
// The texts are pure (the clock is passed in); `renderRotation` builds the card's pieces.

import type { KeyHistoryEntry, KeyView, RotationState, RotationView } from '../api/types';
import { h } from '../lib/dom';
import { exchangeForm } from '../api/exchanges';
import { exchangeName } from './format';

/** States that call for a rotation (and offer a snooze). */
export const NEEDS_ROTATION: readonly RotationState[] = ['due_soon', 'overdue', 'expired'];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "24 Nov 2026", in the user's calendar (local time). The raw string if it is not a date. */
export function shortDate(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = new Date(t);
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

export function needsRotation(key: Pick<KeyView, 'status' | 'rotation'>): boolean {
  return key.status !== 'revoked' && !!key.rotation && NEEDS_ROTATION.includes(key.rotation.state);
}

/** How many keys the summary counts: live keys that are due soon, overdue or expired (snoozed or not:
 * a snooze silences reminders, the key still needs rotating). */
export function dueCount(keys: readonly KeyView[]): number {
  return keys.filter(needsRotation).length;
}

export function dueSummaryText(n: number): string {
  return n === 1 ? '1 key needs rotation' : `${n} keys need rotation`;
}

/** The badge's leading word; empty for `ok`, where Rust's text ("rotate in 40 days") says it all. */
export function rotationStateLabel(state: RotationState): string {
  switch (state) {
    case 'due_soon':
      return 'Due soon';
    case 'overdue':
      return 'Overdue';
    case 'expired':
      return 'Expired';
    default:
      return '';
  }
}

/** The badge's bold word and its text. When Rust's text already starts with the state's word
 * ("overdue by 70 days"), the word is not said twice: "Overdue by 70 days", not
 * "Overdue · overdue by 70 days". */
export function rotationBadgeWords(r: Pick<RotationView, 'state' | 'text'>): { label: string; text: string; separate: boolean } {
  const label = rotationStateLabel(r.state);
  if (label && r.text.toLowerCase().startsWith(label.toLowerCase())) {
    return { label, text: r.text.slice(label.length), separate: false };
  }
  return { label, text: r.text, separate: !!label };
}

/** Why the key is due, for the badge's tooltip (and, when it is not the policy, a word on the card). */
export function rotationReasonText(r: RotationView, key: Pick<KeyView, 'exchange' | 'rotationDays'>): string {
  const when = shortDate(r.dueAt);
  switch (r.reason) {
    case 'exchange_expiry':
      return `${exchangeName(key.exchange)} expires this key on ${when}.`;
    // The value names the one exchange with such a rule today; the words come from its adapter.
    case 'okx_idle_expiry': {
      const idle = exchangeForm(key.exchange)?.capabilities.idleExpiry;
      const name = exchangeName(key.exchange);
      return idle
        ? `${name} deletes ${idle.permissions.join(' or ')} keys without an IP whitelist after ${idle.days} days unused: ${when}.`
        : `${name} deletes unused keys without an IP whitelist: ${when}.`;
    }
    default:
      return `Your policy: rotate every ${key.rotationDays} ${key.rotationDays === 1 ? 'day' : 'days'}. Due ${when}.`;
  }
}

/** A short tag for reasons other than the user's own policy. */
export function rotationReasonTag(r: RotationView, key: Pick<KeyView, 'exchange'>): string {
  if (r.reason === 'exchange_expiry') return 'exchange expiry';
  return r.reason === 'okx_idle_expiry' ? `${exchangeName(key.exchange)} idle expiry` : '';
}

/** "Snoozed until 12 Mar 2025" while the snooze lasts; null once it is over or when there is none. */
export function snoozedText(snoozedUntil: string | null | undefined, now: Date): string | null {
  if (!snoozedUntil) return null;
  const t = Date.parse(snoozedUntil);
  if (Number.isNaN(t) || t <= now.getTime()) return null;
  return `Snoozed until ${shortDate(snoozedUntil)}`;
}

/** "Replaced 9f2c…3a21 on 24 Nov 2026" (the newest earlier key), "(and N earlier)" when there are more. */
export function historyText(history: readonly KeyHistoryEntry[] | undefined): string | null {
  const last = history?.[0];
  if (!last) return null;
  const when = last.retiredAt ?? null;
  const base = when ? `Replaced ${last.keyHint} on ${shortDate(when)}` : `Replaced ${last.keyHint}`;
  const more = history.length - 1;
  return more > 0 ? `${base} (and ${more} earlier ${more === 1 ? 'key' : 'keys'})` : base;
}

/** One line per earlier key, for the history line's tooltip. */
export function historyTitle(history: readonly KeyHistoryEntry[]): string {
  return history
    .map(
      (e) =>
        `${e.keyHint}: added ${shortDate(e.createdAt)}${e.retiredAt ? `, retired ${shortDate(e.retiredAt)}` : ''} (${e.status})`,
    )
    .join('\n');
}

// ---- card pieces ----------------------------------------------------------------------------------

export function renderRotationBadge(key: KeyView): HTMLElement | null {
  const r = key.rotation;
  if (!r || key.status === 'revoked') return null;
  const { label, text, separate } = rotationBadgeWords(r);
  const tag = rotationReasonTag(r, key);
  return h(
    'span',
    {
      class: `badge rotation-badge rotation-${r.state}`,
      'data-state': r.state,
      'data-reason': r.reason,
      title: rotationReasonText(r, key),
    },
    label ? h('span', { class: 'rotation-state' }, label) : null,
    separate ? h('span', { class: 'rotation-sep', 'aria-hidden': 'true' }, ' · ') : null,
    h('span', { class: 'rotation-text' }, text),
    tag ? h('span', { class: 'rotation-reason' }, ` (${tag})`) : null,
  );
}

export interface RotationHandlers {
  onSnooze?: (key: KeyView, days: 1 | 7) => void;
}

/** Snoozed-until, the snooze buttons and the history line; null when there is nothing to say. */
export function renderRotationRow(key: KeyView, now: Date, handlers: RotationHandlers, busy = false): HTMLElement | null {
  const snoozed = key.status !== 'revoked' ? snoozedText(key.snoozedUntil, now) : null;
  const canSnooze = needsRotation(key) && key.status === 'active' && !!handlers.onSnooze;
  const history = historyText(key.history);
  if (!snoozed && !canSnooze && !history) return null;
  const snooze = (days: 1 | 7, text: string): HTMLButtonElement => {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'btn btn-quiet btn-small snooze-key',
        'data-days': days,
        disabled: busy,
        'aria-label': `${text}: no reminders for ${key.label} until then`,
      },
      text,
    );
    b.addEventListener('click', () => handlers.onSnooze?.(key, days));
    return b;
  };
  return h(
    'div',
    { class: 'key-rotation' },
    snoozed ? h('span', { class: 'snoozed-until' }, snoozed) : null,
    canSnooze ? h('span', { class: 'snooze-actions' }, snooze(1, 'Snooze 1 day'), snooze(7, 'Snooze 1 week')) : null,
    history ? h('span', { class: 'key-history', title: historyTitle(key.history ?? []) }, history) : null,
  );
}

/** "N keys need rotation" above the list; present but hidden when there are none. */
export function renderDueSummary(keys: readonly KeyView[]): HTMLElement {
  const n = dueCount(keys);
  const urgent = keys.some((k) => needsRotation(k) && (k.rotation!.state === 'overdue' || k.rotation!.state === 'expired'));
  return h(
    'p',
    { id: 'due-summary', class: `due-summary${urgent ? ' urgent' : ''}`, role: 'status', 'data-count': n, hidden: n === 0 },
    dueSummaryText(n),
  );
}
