import { describe, expect, it } from 'vitest';

import { ageText, daysAgo, daysBetween, environmentLabel, exchangeName, rotationDue, statusLabel } from './format';

const now = new Date('2025-03-10T12:00:00Z');

describe('card texts', () => {
  it('names exchanges and unusual environments', () => {
    expect(exchangeName('okx')).toBe('OKX');
    expect(exchangeName('bybit')).toBe('Bybit');
    expect(exchangeName('binance')).toBe('Binance');
    expect(environmentLabel({ kind: 'live' })).toBe('');
    expect(environmentLabel({ kind: 'demo' })).toBe('Demo / testnet');
    expect(environmentLabel({ kind: 'custom', baseUrl: 'http://127.0.0.1:9000' })).toBe('Custom: 127.0.0.1:9000');
    expect(statusLabel('quarantined')).toBe('Quarantined');
  });

  it('says how old a key is', () => {
    expect(daysBetween('2025-03-07T12:00:00Z', now)).toBe(3);
    expect(daysBetween('2025-03-11T12:00:00Z', now)).toBe(0);
    expect(daysAgo(0)).toBe('today');
    expect(daysAgo(1)).toBe('yesterday');
    expect(ageText({ createdAt: '2025-03-07T11:00:00Z', rotatedAt: '2025-03-07T11:00:00Z' }, now)).toBe('added 3 days ago');
    expect(ageText({ createdAt: '2025-01-01T00:00:00Z', rotatedAt: '2025-03-08T00:00:00Z' }, now)).toBe('rotated 2 days ago');
  });

  it('says when rotation is due', () => {
    expect(rotationDue({ rotatedAt: '2025-03-07T12:00:00Z', rotationDays: 90 }, now)).toEqual({
      text: 'rotate in 87 days',
      soon: false,
      overdue: false,
    });
    expect(rotationDue({ rotatedAt: '2025-03-04T12:00:00Z', rotationDays: 7 }, now).soon).toBe(true);
    expect(rotationDue({ rotatedAt: '2025-03-01T12:00:00Z', rotationDays: 7 }, now)).toEqual({
      text: 'rotation overdue by 2 days',
      soon: true,
      overdue: true,
    });
  });
});
