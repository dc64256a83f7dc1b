// Issue 10, item 13: "Revoked" only with a proof; a key still live at its exchange says so in red,
// with the page to delete it on and the two choices the checklist promises.
import { describe, expect, it, vi } from 'vitest';

import type { KeyView } from '../api/types';
import { renderKeyCard, type DashboardHandlers } from './dashboard';
import { provedText } from './format';
import { keyView } from '../test-support/fixtures';

const NOW = new Date('2025-03-10T12:00:00Z');

function key(over: Partial<KeyView>): KeyView {
  return keyView({
    id: 'k1',
    exchange: 'okx',
    label: 'okx-master',
    environment: { kind: 'live' },
    keyHint: 'abcd…wxyz',
    createdAt: '2025-03-07T11:00:00Z',
    rotatedAt: '2025-03-07T11:00:00Z',
    verifiedAt: null,
    rotationDays: 90,
    permissions: ['withdraw'],
    ipWhitelist: [],
    status: 'active',
    inspection: null,
    findings: [],
    ...over,
  });
}

function handlers(): DashboardHandlers & { onConfirmDeleted: ReturnType<typeof vi.fn>; onWipe: ReturnType<typeof vi.fn> } {
  return {
    onAdd: () => {},
    onDelete: () => {},
    onRecheck: () => {},
    onReveal: () => {},
    onCopy: () => {},
    onConfirmDeleted: vi.fn(),
    onWipe: vi.fn(),
  };
}

describe('key card after a revoke', () => {
  it('a still-live key is red, links the website, and offers "I deleted it" and "Wipe the secret here now"', () => {
    const h = handlers();
    const card = renderKeyCard(key({ status: 'still_live', stillLiveUrl: 'https://www.okx.com/account/my-api' }), NOW, h);
    expect(card.classList.contains('status-still_live')).toBe(true);
    expect(card.querySelector('.key-status')?.textContent).toBe('Still live');
    expect(card.textContent).not.toContain('Revoked');
    const note = card.querySelector<HTMLElement>('[data-testid=still-live]')!;
    expect(note.querySelector('.still-live-title')?.textContent).toBe('Still live at OKX — delete it on the website');
    expect(note.querySelector('.link-url')?.textContent).toBe('https://www.okx.com/account/my-api');
    card.querySelector<HTMLButtonElement>('.confirm-deleted')!.click();
    expect(h.onConfirmDeleted).toHaveBeenCalledOnce();
    const wipe = card.querySelector<HTMLButtonElement>('.wipe-locally')!;
    expect(wipe.textContent).toBe('Wipe the secret here now');
    wipe.click();
    expect(h.onWipe).toHaveBeenCalledOnce();
    expect(card.querySelector('.rotate-key, .recheck-key:not([hidden])')).toBeNull();
    expect(card.textContent).not.toContain('rotate in');
  });

  it('a key wiped while still live keeps the red status, with nothing left to prove it', () => {
    const card = renderKeyCard(
      key({ status: 'still_live_wiped', stillLiveUrl: 'https://www.okx.com/account/my-api' }),
      NOW,
      handlers(),
    );
    expect(card.querySelector('.still-live-title')?.textContent).toBe('Still live at OKX — delete it on the website');
    expect(card.querySelector('.confirm-deleted, .wipe-locally, .reveal-key')).toBeNull();
  });

  it('a revoked key says when it was proved', () => {
    const card = renderKeyCard(key({ status: 'revoked', revokedAt: '2025-03-10T11:59:58Z' }), NOW, handlers());
    expect(card.querySelector('.revoked-proof')?.textContent).toMatch(/^OKX: proved revoked at \d\d:\d\d:\d\d$/);
    expect(provedText('2025-03-10T11:59:58Z')).toMatch(/^proved revoked at \d\d:\d\d:\d\d$/);
  });
});
