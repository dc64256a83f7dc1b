// Reveal and copy a secret, with IPC mocked: the code goes to Rust with the request, the values are
// shown with a countdown and removed from the page when it runs out (or the window loses focus), and
// a copy says when the clipboard clears.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { KeyView, RevealedSecret } from '../api/types';
import { mountApp } from '../app';
import { keyView } from '../test-support/fixtures';
import { $, flush, type } from '../test-support/dom';

const NOW = new Date('2025-03-10T12:00:00Z');
const API_KEY = '37c541a1-1234-4abc-9def-10fe7a038418';
const API_SECRET = '22582BD0CFF14C41EDBF1AB98506286D';
const PASSPHRASE = 'Pass phrase 1';
const GOOD = '123456';

function key(id: string, label: string, over: Partial<KeyView> = {}): KeyView {
  return keyView({
    id,
    label,
    exchange: 'okx',
    environment: { kind: 'live' },
    keyHint: '37c5…8418',
    createdAt: '2025-03-01T00:00:00Z',
    rotatedAt: '2025-03-01T00:00:00Z',
    verifiedAt: null,
    rotationDays: 90,
    permissions: [],
    ipWhitelist: [],
    status: 'active',
    inspection: null,
    findings: [],
    ...over,
  });
}

let keys: KeyView[];
let calls: { cmd: string; args: Record<string, unknown> }[];
let ttl: number;

function install(): void {
  mockIPC((cmd, raw) => {
    const args = (raw ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: structuredClone(args) });
    switch (cmd) {
      case 'list_keys':
        return structuredClone(keys);
      case 'keychain_status':
        return { ok: true, service: 'latchkey', message: null };
      case 'guard_status':
        return { enrolled: true, lockedUntil: null, recoveryCodesLeft: 10, setupSkipped: false };
      case 'reveal_secret': {
        if (args.code !== GOOD) throw { kind: 'guard', code: 'wrong_code', message: 'Wrong code: check your authenticator.' };
        const k = keys.find((x) => x.id === args.id);
        const r: RevealedSecret = {
          apiKey: API_KEY,
          apiSecret: API_SECRET,
          passphrase: k?.exchange === 'okx' ? PASSPHRASE : null,
          visibleForSecs: ttl,
        };
        return r;
      }
      case 'copy_secret':
        if (args.code !== GOOD) throw { kind: 'guard', code: 'wrong_code', message: 'Wrong code: check your authenticator.' };
        return { clearsInSecs: ttl };
      default:
        throw { kind: 'internal', message: `not mocked: ${cmd}` };
    }
  });
}

const sent = (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args);
const card = (id: string) => `[data-testid=key-card][data-id=${id}]`;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  keys = [key('k1', 'okx-bot'), key('k2', 'bybit-main', { exchange: 'bybit' }), key('k3', 'old', { status: 'revoked' })];
  calls = [];
  ttl = 30;
  install();
  document.body.replaceChildren();
  const root = document.createElement('div');
  root.id = 'app';
  document.body.appendChild(root);
  const app = mountApp(root, { now: () => NOW });
  await flush();
  await app.ready;
});

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

describe('reveal', () => {
  it('live keys offer Reveal and Copy; revoked keys do not; the passphrase only where there is one', () => {
    expect(document.querySelector(`${card('k1')} .reveal-key`)).toBeTruthy();
    const parts = (id: string) =>
      [...document.querySelectorAll<HTMLElement>(`${card(id)} .copy-secret`)].map((b) => b.dataset.part);
    expect(parts('k1')).toEqual(['apiKey', 'apiSecret', 'passphrase']);
    expect(parts('k2')).toEqual(['apiKey', 'apiSecret']);
    document.querySelector<HTMLDetailsElement>('#revoked-keys')!.open = true;
    expect(document.querySelector(`${card('k3')} .reveal-key`)).toBeNull();
    expect(document.querySelector(`${card('k3')} .copy-secret`)).toBeNull();
    expect(document.body.textContent).not.toContain(API_SECRET);
  });

  it('a wrong code shows nothing; a right one shows the values with a countdown, then removes them', async () => {
    $(`${card('k1')} .reveal-key`).click();
    expect($('#reveal-dialog')).toBeTruthy();
    type('#guard-code', '000000');
    $('#reveal-confirm').click();
    await flush();
    expect($('[data-error-for=code]').textContent).toContain('Wrong code');
    expect(document.querySelector('.revealed-secret')).toBeNull();
    expect(document.body.textContent).not.toContain(API_SECRET);

    type('#guard-code', '123 456');
    $('#reveal-confirm').click();
    await flush();
    expect(sent('reveal_secret')).toEqual([
      { id: 'k1', code: '000000' },
      { id: 'k1', code: GOOD },
    ]);
    expect(document.querySelector('#reveal-dialog')).toBeNull();
    const value = (part: string) => $(`.revealed-secret .revealed-value[data-part=${part}]`).textContent;
    expect([value('apiKey'), value('apiSecret'), value('passphrase')]).toEqual([API_KEY, API_SECRET, PASSPHRASE]);
    expect($('.reveal-countdown').textContent).toBe('30');
    expect($('#app').hasAttribute('inert')).toBe(true);

    await vi.advanceTimersByTimeAsync(10_000);
    expect($('.reveal-countdown').textContent).toBe('20');
    expect(document.body.textContent).toContain(API_SECRET);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(document.querySelector('.revealed-secret')).toBeNull();
    expect(document.querySelector('.revealed-value')).toBeNull();
    expect(document.body.textContent).not.toContain(API_SECRET);
    expect(document.body.textContent).not.toContain(PASSPHRASE);
    expect($('#app').hasAttribute('inert')).toBe(false);
    // The dialog lock is released: the next guarded action opens.
    $(`${card('k2')} .reveal-key`).click();
    expect($('#reveal-dialog')).toBeTruthy();
  });

  it('uses the time Rust sends and has no passphrase row for keys without one', async () => {
    ttl = 3;
    $(`${card('k2')} .reveal-key`).click();
    type('#guard-code', GOOD);
    $('#reveal-confirm').click();
    await flush();
    expect(document.querySelector('.revealed-value[data-part=passphrase]')).toBeNull();
    expect($('.reveal-countdown').textContent).toBe('3');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(document.querySelector('.revealed-secret')).toBeNull();
  });

  it('hides at once when the window loses focus or is hidden, and on Hide now', async () => {
    const reveal = async () => {
      $(`${card('k1')} .reveal-key`).click();
      type('#guard-code', GOOD);
      $('#reveal-confirm').click();
      await flush();
      expect($('.revealed-secret')).toBeTruthy();
    };
    await reveal();
    window.dispatchEvent(new Event('blur'));
    expect(document.querySelector('.revealed-secret')).toBeNull();
    expect(document.body.textContent).not.toContain(API_SECRET);

    await reveal();
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
    delete (document as unknown as Record<string, unknown>).visibilityState;
    expect(document.querySelector('.revealed-secret')).toBeNull();

    await reveal();
    $('#reveal-hide').click();
    expect(document.querySelector('.revealed-secret')).toBeNull();
    // Nothing left running: a later tick does not throw or bring anything back.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(document.body.textContent).not.toContain(API_SECRET);
  });
});

describe('copy', () => {
  it('sends the code and the part, never receives the secret, and says when the clipboard clears', async () => {
    $(`${card('k1')} .copy-secret[data-part=apiSecret]`).click();
    expect($('#copy-dialog')).toBeTruthy();
    type('#guard-code', '000000');
    $('#copy-confirm').click();
    await flush();
    expect($('[data-error-for=code]').textContent).toContain('Wrong code');
    expect(document.querySelector('#copy-notice')).toBeNull();

    type('#guard-code', GOOD);
    $('#copy-confirm').click();
    await flush();
    expect(sent('copy_secret')).toEqual([
      { id: 'k1', code: '000000', part: 'apiSecret' },
      { id: 'k1', code: GOOD, part: 'apiSecret' },
    ]);
    expect(document.querySelector('#copy-dialog')).toBeNull();
    expect($('#copy-notice').textContent).toContain('Copied — clipboard clears in 30 s');
    expect($('#copy-notice').dataset.part).toBe('apiSecret');
    expect(document.body.textContent).not.toContain(API_SECRET);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(document.querySelector('#copy-notice')).toBeNull();
  });

  it('cancelling sends nothing', async () => {
    $(`${card('k2')} .copy-secret[data-part=apiKey]`).click();
    $('#copy-cancel').click();
    await flush();
    expect(sent('copy_secret')).toEqual([]);
    expect(document.querySelector('#copy-dialog')).toBeNull();
  });
});
