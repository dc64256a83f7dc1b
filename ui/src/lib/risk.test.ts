import { describe, expect, it } from 'vitest';

import type { Finding } from '../api/types';
import { daysUntil, localDate } from './days';
import { accountText, expiryText, ipText, sortFindings, sortPermissions, verifiedText, worstSeverity } from './risk';

const now = new Date('2025-03-10T12:00:00Z');
const f = (severity: Finding['severity'], code: string): Finding => ({ severity, code, message: code });

describe('risk texts', () => {
  it('orders findings by severity, keeping Rust’s order within one severity', () => {
    const sorted = sortFindings([f('fine', 'a'), f('warning', 'b'), f('critical', 'c'), f('high', 'd'), f('warning', 'e')]);
    expect(sorted.map((x) => x.code)).toEqual(['c', 'd', 'b', 'e', 'a']);
    expect(worstSeverity([f('warning', 'b'), f('high', 'd')])).toBe('high');
    expect(worstSeverity([])).toBeNull();
  });

  it('orders permissions from least to most powerful, without duplicates', () => {
    expect(sortPermissions(['withdraw', 'read', 'trade', 'read', 'transfer'])).toEqual(['read', 'trade', 'transfer', 'withdraw']);
  });

  it('describes the IP whitelist', () => {
    expect(ipText({ ipRestricted: false, ipWhitelist: [] })).toBe('No IP whitelist');
    expect(ipText({ ipRestricted: true, ipWhitelist: [] })).toBe('IP-restricted');
    expect(ipText({ ipRestricted: true, ipWhitelist: ['1.2.3.4'] })).toBe('IP: 1.2.3.4');
    expect(ipText({ ipRestricted: true, ipWhitelist: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4', '5.5.5.5'] })).toBe(
      'IP: 1.1.1.1, 2.2.2.2, 3.3.3.3, … (+2 more)',
    );
  });

  it('describes the account', () => {
    expect(accountText({ accountKind: 'master', accountUid: '7', masterUid: null })).toBe('Master account · UID 7');
    expect(accountText({ accountKind: 'sub', accountUid: null, masterUid: '1' })).toBe('Sub-account · master UID 1');
    expect(accountText({ accountKind: 'unknown', accountUid: null, masterUid: null })).toBe('Not reported by the exchange');
  });

  it('says when a key expires or expired', () => {
    expect(expiryText(null, now)).toBeNull();
    expect(expiryText('nonsense', now)).toBeNull();
    expect(expiryText('2025-03-20T12:00:00Z', now)).toBe('Expires in 10 days (2025-03-20)');
    expect(expiryText('2025-03-10T23:00:00Z', now)).toBe('Expires today (2025-03-10)');
    // Less than 24 hours away but on tomorrow's date: a calendar day, as Rust's finding counts it.
    expect(expiryText('2025-03-11T11:00:00Z', now)).toBe('Expires tomorrow (2025-03-11)');
    expect(expiryText('2025-03-11T13:00:00Z', now)).toBe('Expires tomorrow (2025-03-11)');
    expect(expiryText('2025-03-08T12:00:00Z', now)).toBe('Expired 2 days ago (2025-03-08)');
  });

  it('counts an expiry in the same calendar days as the badge and the finding (fixed clock)', () => {
    // 9.5 days of time, 10 calendar days: Rust's badge says "rotate in 10 days", its finding
    // "(in 10 days)"; the card's facts said 9.
    const evening = new Date('2026-03-01T18:00:00Z');
    expect(expiryText('2026-03-11T06:00:00Z', evening)).toBe('Expires in 10 days (2026-03-11)');
    expect(daysUntil(Date.parse('2026-03-11T06:00:00Z'), evening)).toBe(10);
    expect(daysUntil(Date.parse('2026-03-01T23:59:00Z'), evening)).toBe(0);
    expect(daysUntil(Date.parse('2026-02-28T23:59:00Z'), evening)).toBe(-1);
    expect(localDate(Date.parse('2026-03-11T06:00:00Z'))).toBe('2026-03-11');
  });

  it('says when a key was verified', () => {
    expect(verifiedText(null, now)).toBe('Not verified');
    expect(verifiedText('2025-03-10T08:00:00Z', now)).toBe('Verified today');
    expect(verifiedText('2025-03-09T08:00:00Z', now)).toBe('Verified yesterday');
    expect(verifiedText('2025-03-01T12:00:00Z', now)).toBe('Verified 9 days ago');
    expect(verifiedText('2025-03-11T12:00:00Z', now)).toBe('Verified today');
  });
});
