// A long key list is shown after its first cards are built; the rest follow in later tasks and
// stop when the list is replaced.
import { describe, expect, it, vi } from 'vitest';

import type { KeyView } from '../api/types';
import { renderKeyList, type DashboardHandlers } from './dashboard';
import { keyView } from '../test-support/fixtures';

const NOW = new Date('2025-03-10T12:00:00Z');

function key(i: number): KeyView {
  return keyView({
    id: `id-${i}`,
    exchange: 'okx',
    label: `key-${i}`,
    environment: { kind: 'live' },
    keyHint: 'abcd…wxyz',
    createdAt: '2025-03-07T11:00:00Z',
    rotatedAt: '2025-03-07T11:00:00Z',
    verifiedAt: null,
    rotationDays: 90,
    permissions: [],
    ipWhitelist: [],
    status: 'active',
    inspection: null,
    findings: [],
  });
}

const handlers: DashboardHandlers = {
  onAdd: () => {},
  onDelete: () => {},
  onRecheck: () => {},
  onReveal: () => {},
  onCopy: () => {},
};

const cards = (el: HTMLElement): number => el.querySelectorAll('[data-testid=key-card]').length;

describe('renderKeyList with many keys', () => {
  it('builds every card at once by default', () => {
    const keys = Array.from({ length: 120 }, (_, i) => key(i));
    expect(cards(renderKeyList(keys, NOW, handlers))).toBe(120);
  });

  it('shows the eager cards first, then appends the rest in order and says when done', async () => {
    vi.useFakeTimers();
    const keys = Array.from({ length: 250 }, (_, i) => key(i));
    const onComplete = vi.fn();
    let cardsWhenShown = -1;
    const onShown = vi.fn(() => (cardsWhenShown = cards(list)));
    const list = renderKeyList(keys, NOW, handlers, new Map(), false, { eager: 40, onShown, onComplete });
    document.body.replaceChildren(list);
    expect(cards(list)).toBe(40);
    expect(list.querySelector('.count')?.textContent).toBe('(250)');
    await vi.runAllTimersAsync();
    expect(cards(list)).toBe(250);
    // "Shown" is the frame with the first cards: nothing more had been built yet.
    expect(onShown).toHaveBeenCalledOnce();
    expect(cardsWhenShown).toBe(40);
    expect([...list.querySelectorAll<HTMLElement>('[data-testid=key-card]')].map((c) => c.dataset.id)).toEqual(
      keys.map((k) => k.id),
    );
    expect(onComplete).toHaveBeenCalledOnce();
    vi.useRealTimers();
  });

  it('stops appending to a list that a newer render replaced', async () => {
    vi.useFakeTimers();
    const keys = Array.from({ length: 250 }, (_, i) => key(i));
    const stale = renderKeyList(keys, NOW, handlers, new Map(), false, { eager: 40 });
    document.body.replaceChildren(stale);
    document.body.replaceChildren();
    await vi.runAllTimersAsync();
    expect(cards(stale)).toBe(40);
    vi.useRealTimers();
  });
});

describe('a quarantined card', () => {
  it('shows no rotation due date: the key waits for its revoke, not for a rotation', () => {
    const rotation = {
      state: 'overdue' as const,
      text: 'overdue by 70 days',
      dueAt: '2024-12-30T11:00:00Z',
      reason: 'policy' as const,
      daysLeft: -70,
    };
    const old = { ...key(1), rotatedAt: '2024-10-01T11:00:00Z', createdAt: '2024-10-01T11:00:00Z' };
    const list = renderKeyList(
      [
        { ...old, id: 'q', label: 'quarantined', status: 'quarantined', rotation },
        { ...old, id: 'q-old', label: 'quarantined-old-app', status: 'quarantined' },
        { ...old, id: 'a', label: 'active', rotation },
      ],
      NOW,
      { ...handlers, onSnooze: () => {} },
    );
    const card = (label: string) => list.querySelector<HTMLElement>(`[data-label="${label}"]`)!;
    for (const label of ['quarantined', 'quarantined-old-app']) {
      expect(card(label).querySelector('.rotation-badge'), label).toBeNull();
      expect(card(label).querySelector('.key-due'), label).toBeNull();
      expect(card(label).querySelector('.snooze-key'), label).toBeNull();
      expect(card(label).textContent, label).not.toMatch(/overdue|rotate in|due today/i);
    }
    expect(card('active').querySelector('.rotation-badge')?.textContent).toBe('Overdue by 70 days');
  });
});
