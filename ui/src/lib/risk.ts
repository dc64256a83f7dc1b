// Texts about what an exchange said about a key: findings order, permissions, IPs, account, expiry.
// Pure: no DOM, the clock is passed in. The findings' messages come from Rust and are shown as is.

import { SEVERITIES, type AccountKind, type Finding, type KeyInspection, type Permission, type Severity } from '../api/types';
import { daysUntil, localDate } from './days';

export const SEVERITY_LABELS: Record<Severity, string> = {
  critical: 'Critical',
  high: 'High',
  warning: 'Warning',
  fine: 'OK',
};

export const PERMISSION_LABELS: Record<Permission, string> = {
  read: 'Read',
  trade: 'Trade',
  withdraw: 'Withdraw',
  transfer: 'Transfer',
};

const PERMISSION_ORDER: readonly Permission[] = ['read', 'trade', 'transfer', 'withdraw'];

/** 0 for critical … 3 for fine; an unknown severity sorts last. */
export function severityRank(s: Severity): number {
  const i = SEVERITIES.indexOf(s);
  return i < 0 ? SEVERITIES.length : i;
}

/** Highest severity first; equal severities keep Rust's order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => severityRank(a.f.severity) - severityRank(b.f.severity) || a.i - b.i)
    .map(({ f }) => f);
}

export function worstSeverity(findings: readonly Finding[]): Severity | null {
  return sortFindings(findings)[0]?.severity ?? null;
}

/** A stable order for badges, least powerful first; unknown permissions are kept at the end. */
export function sortPermissions(permissions: readonly Permission[]): Permission[] {
  const rank = (p: Permission): number => {
    const i = PERMISSION_ORDER.indexOf(p);
    return i < 0 ? PERMISSION_ORDER.length : i;
  };
  return [...new Set(permissions)].sort((a, b) => rank(a) - rank(b));
}

export function permissionLabel(p: Permission): string {
  return PERMISSION_LABELS[p] ?? p;
}

/** "IP: 1.2.3.4, 5.6.7.8", "IP-restricted" when the exchange says so without the list (Binance),
 * or "No IP whitelist". Long lists show the first `max` addresses and how many more. */
export function ipText(inspection: Pick<KeyInspection, 'ipRestricted' | 'ipWhitelist'>, max = 3): string {
  const ips = inspection.ipWhitelist;
  if (ips.length > 0) {
    const shown = ips.slice(0, max).join(', ');
    return ips.length > max ? `IP: ${shown}, … (+${ips.length - max} more)` : `IP: ${shown}`;
  }
  return inspection.ipRestricted ? 'IP-restricted' : 'No IP whitelist';
}

export function accountText(inspection: Pick<KeyInspection, 'accountKind' | 'accountUid' | 'masterUid'>): string {
  const kind: AccountKind = inspection.accountKind;
  const uid = inspection.accountUid ? ` · UID ${inspection.accountUid}` : '';
  switch (kind) {
    case 'master':
      return `Master account${uid}`;
    case 'sub':
      return `Sub-account${uid}${inspection.masterUid ? ` · master UID ${inspection.masterUid}` : ''}`;
    default:
      return `Not reported by the exchange${uid}`;
  }
}

/** "Expires in 12 days (2025-03-22)", "Expired 2 days ago (…)", or null when the exchange gave no date.
 * Days are calendar days in the user's time zone, as in Rust's findings and the rotation badge. */
export function expiryText(expiresAt: string | null, now: Date): string | null {
  if (!expiresAt) return null;
  const t = Date.parse(expiresAt);
  if (Number.isNaN(t)) return null;
  const date = localDate(t);
  const days = daysUntil(t, now);
  if (t <= now.getTime()) {
    const ago = -days;
    return `Expired ${ago <= 0 ? 'today' : ago === 1 ? 'yesterday' : `${ago} days ago`} (${date})`;
  }
  if (days === 0) return `Expires today (${date})`;
  if (days === 1) return `Expires tomorrow (${date})`;
  return `Expires in ${days} days (${date})`;
}

/** "Verified today", "Verified 3 days ago", or "Not verified". */
export function verifiedText(verifiedAt: string | null, now: Date): string {
  if (!verifiedAt) return 'Not verified';
  const t = Date.parse(verifiedAt);
  if (Number.isNaN(t)) return 'Not verified';
  const n = Math.max(0, -daysUntil(t, now));
  return `Verified ${n === 0 ? 'today' : n === 1 ? 'yesterday' : `${n} days ago`}`;
}
