// What a key card says about dates, environments and status. Pure: the clock is passed in.

import { exchangeName } from '../api/exchanges';
import type { Environment, KeyRecord, KeyStatus } from '../api/types';
import { daysUntil } from '../lib/days';

const DAY_MS = 24 * 60 * 60 * 1000;

export { exchangeName };

/** Empty for live keys: only the unusual environments are worth a word on the card. */
export function environmentLabel(env: Environment): string {
  switch (env.kind) {
    case 'live':
      return '';
    case 'demo':
      return 'Demo / testnet';
    case 'custom':
      return `Custom: ${hostOf(env.baseUrl)}`;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** The card's status text; a rejected key names the exchange that refused it. */
export function statusText(key: Pick<KeyRecord, 'status' | 'exchange'>): string {
  if (key.status === 'rejected') return `Rejected by ${exchangeName(key.exchange)} (deleted or expired?)`;
  return statusLabel(key.status);
}

export function statusLabel(s: KeyStatus): string {
  const labels: Record<KeyStatus, string> = {
    active: 'Active',
    quarantined: 'Quarantined',
    revoked: 'Revoked',
    still_live: 'Still live',
    still_live_wiped: 'Still live',
    rejected: 'Rejected',
  };
  return labels[s] ?? s;
}

/** Keys a revoke could not end at their exchange: counted in the header until resolved. */
export function isStillLive(s: KeyStatus): boolean {
  return s === 'still_live' || s === 'still_live_wiped';
}

/** "proved revoked at 14:03:27" in the user's time zone (the date in the tooltip). */
export function provedText(iso: string | null | undefined): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) return 'revoked';
  const time = new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return `proved revoked at ${time}`;
}

/** Calendar days from `from` to `now`, never negative (a clock a little behind must not say "in 1 day"). */
export function daysBetween(from: string, now: Date): number {
  const t = Date.parse(from);
  if (Number.isNaN(t)) return 0;
  return Math.max(0, -daysUntil(t, now));
}

export function daysAgo(n: number): string {
  if (n === 0) return 'today';
  if (n === 1) return 'yesterday';
  return `${n} days ago`;
}

/** "added 3 days ago", or "rotated 2 days ago" once the key has been rotated. */
export function ageText(key: Pick<KeyRecord, 'createdAt' | 'rotatedAt'>, now: Date): string {
  const rotated = Date.parse(key.rotatedAt) > Date.parse(key.createdAt);
  return rotated ? `rotated ${daysAgo(daysBetween(key.rotatedAt, now))}` : `added ${daysAgo(daysBetween(key.createdAt, now))}`;
}

export interface RotationDue {
  text: string;
  /** Due within a week or overdue. */
  soon: boolean;
  overdue: boolean;
}

export function rotationDue(key: Pick<KeyRecord, 'rotatedAt' | 'rotationDays'>, now: Date): RotationDue {
  const rotated = Date.parse(key.rotatedAt);
  if (Number.isNaN(rotated)) return { text: '', soon: false, overdue: false };
  const due = rotated + key.rotationDays * DAY_MS;
  const left = daysUntil(due, now);
  if (left < 0) return { text: `rotation overdue by ${-left} ${-left === 1 ? 'day' : 'days'}`, soon: true, overdue: true };
  if (left === 0) return { text: 'rotation due today', soon: true, overdue: due <= now.getTime() };
  return { text: `rotate in ${left} ${left === 1 ? 'day' : 'days'}`, soon: left <= 7, overdue: false };
}

/** A full date for a tooltip, in the user's locale. */
export function fullDate(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}
