// The window with IPC mocked: the wizard sends exactly the AddKeyInput Rust expects, never shows a
// secret, clears the secret inputs, and puts Rust's errors where the user can act on them.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AddKeyInput, IpcError, KeyRecord, KeychainStatus } from './api/types';
import { mountApp, type App } from './app';

const OKX_KEY = '37c541a1-1234-4abc-9def-10fe7a038418';
const OKX_SECRET = '22582BD0CFF14C41EDBF1AB98506286D';
const OKX_PASS = 'Pass phrase 1';
const BINANCE_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const BINANCE_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const NOW = new Date('2025-03-10T12:00:00Z');

interface Backend {
  keys: KeyRecord[];
  calls: { cmd: string; args: unknown }[];
  keychain: KeychainStatus;
  /** When set, the next add_key rejects with it. */
  addError: IpcError | null;
}

let backend: Backend;
let app: App;

function record(input: AddKeyInput, id = `id-${backend.keys.length + 1}`): KeyRecord {
  return {
    id,
    exchange: input.exchange,
    label: input.label,
    environment: input.environment,
    keyHint: 'from…rust',
    createdAt: '2025-03-07T11:00:00Z',
    rotatedAt: '2025-03-07T11:00:00Z',
    verifiedAt: null,
    rotationDays: input.rotationDays,
    permissions: [],
    ipWhitelist: [],
    status: 'active',
  };
}

function install(): void {
  mockIPC((cmd, args) => {
    // Keep a deep copy: the wizard blanks the payload it sent once Rust has answered.
    backend.calls.push({ cmd, args: structuredClone(args) });
    switch (cmd) {
      case 'list_keys':
        return structuredClone(backend.keys);
      case 'keychain_status':
        return backend.keychain;
      case 'add_key': {
        if (backend.addError) {
          const e = backend.addError;
          backend.addError = null;
          throw e;
        }
        const r = record((args as { input: AddKeyInput }).input);
        backend.keys.push(r);
        return r;
      }
      case 'delete_key': {
        const id = (args as { id: string }).id;
        if (!backend.keys.some((k) => k.id === id)) throw { kind: 'not_found', message: 'No key with that id.' };
        backend.keys = backend.keys.filter((k) => k.id !== id);
        return null;
      }
      default:
        throw `unknown command ${cmd}`;
    }
  });
}

async function start(): Promise<void> {
  document.body.replaceChildren();
  const root = document.createElement('div');
  root.id = 'app';
  document.body.appendChild(root);
  app = mountApp(root, { now: () => NOW });
  await app.ready;
}

const $ = <T extends Element = HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`no element ${sel}`);
  return el;
};
const $input = (sel: string) => $<HTMLInputElement>(sel);
const step = () => document.querySelector('#wizard')?.getAttribute('data-step');
const flush = () => new Promise((r) => setTimeout(r, 0));

function type(sel: string, value: string): void {
  const el = $<HTMLInputElement | HTMLSelectElement>(sel);
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
}

function press(key: string, target: Element = document.activeElement ?? document.body, init: KeyboardEventInit = {}): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }));
}

function click(sel: string): void {
  $(sel).click();
}

async function fillOkx(label = 'okx-bot-main'): Promise<void> {
  click('#add-key');
  click('input[name=exchange][value=okx]');
  click('#wizard-next');
  type('#api-key', `  ${OKX_KEY} `);
  type('#api-secret', OKX_SECRET);
  type('#passphrase', OKX_PASS);
  click('#wizard-next');
  type('#label', label);
  type('#rotation-days', '30');
  type('#environment', 'custom');
  type('#base-url', 'http://127.0.0.1:9000');
  click('#wizard-next');
}

beforeEach(async () => {
  backend = { keys: [], calls: [], keychain: { ok: true, service: 'latchkey', message: null }, addError: null };
  install();
  await start();
});

afterEach(() => {
  clearMocks();
});

describe('dashboard', () => {
  it('invites the first key when there is none', () => {
    expect($('#empty-state').textContent).toContain('No keys yet — add your first exchange key');
    expect(document.querySelector('#keychain-banner')?.hasAttribute('hidden')).toBe(true);
    click('#add-first-key');
    expect(step()).toBe('exchange');
    expect(document.activeElement).toBe($('input[name=exchange][value=okx]'));
  });

  it('lists keys with label, exchange, hint, age, environment and status', async () => {
    backend.keys = [
      { ...record({ exchange: 'bybit', label: 'bybit <b>bot</b>', environment: { kind: 'demo' }, apiKey: '', apiSecret: '', passphrase: null, rotationDays: 90 }, 'k1') },
      { ...record({ exchange: 'binance', label: 'hodl', environment: { kind: 'live' }, apiKey: '', apiSecret: '', passphrase: null, rotationDays: 90 }, 'k2'), status: 'quarantined' },
    ];
    await app.refresh();
    const cards = [...document.querySelectorAll<HTMLElement>('[data-testid=key-card]')];
    expect(cards.map((c) => c.dataset.label)).toEqual(['bybit <b>bot</b>', 'hodl']);
    const first = cards[0]!;
    expect(first.querySelector('.key-label')?.textContent).toBe('bybit <b>bot</b>');
    expect(first.querySelector('b')).toBeNull();
    expect(first.querySelector('.key-exchange')?.textContent).toBe('Bybit');
    expect(first.querySelector('.key-hint')?.textContent).toBe('from…rust');
    expect(first.querySelector('.key-status')?.textContent).toBe('Active');
    expect(first.textContent).toContain('added 3 days ago');
    expect(first.textContent).toContain('Demo / testnet');
    expect(cards[1]!.querySelector('.key-status')?.textContent).toBe('Quarantined');
    expect(cards[1]!.querySelector('.key-env')).toBeNull();
    expect(document.querySelector('#empty-state')).toBeNull();
  });

  it('shows a persistent keychain banner when the keychain is unavailable', async () => {
    backend.keychain = { ok: false, service: 'latchkey', message: 'No keychain available: unlock your login keyring.' };
    await start();
    const b = $('#keychain-banner');
    expect(b.hidden).toBe(false);
    expect(b.textContent).toContain('unlock your login keyring');
  });

  it('deletes a key after confirmation', async () => {
    backend.keys = [record({ exchange: 'okx', label: 'gone', environment: { kind: 'live' }, apiKey: '', apiSecret: '', passphrase: null, rotationDays: 90 }, 'k9')];
    await app.refresh();
    click('[data-testid=key-card][data-label=gone] .delete-key');
    expect(document.activeElement?.id).toBe('cancel-delete');
    press('Escape');
    expect(document.querySelector('#confirm-delete')).toBeNull();
    expect(backend.calls.some((c) => c.cmd === 'delete_key')).toBe(false);

    click('[data-testid=key-card][data-label=gone] .delete-key');
    click('#confirm-delete');
    await flush();
    expect(backend.calls.find((c) => c.cmd === 'delete_key')?.args).toEqual({ id: 'k9' });
    expect(document.querySelector('[data-testid=key-card]')).toBeNull();
    expect($('#empty-state')).toBeTruthy();
  });
});

describe('add key wizard', () => {
  it('sends exactly the AddKeyInput, never shows the secret, and clears the secret inputs', async () => {
    await fillOkx();
    expect(step()).toBe('confirm');
    const wizard = $('#wizard');
    expect(wizard.textContent).toContain('37c5…8418');
    expect(wizard.textContent).toContain('okx-bot-main');
    expect(wizard.textContent).toContain('OKX');
    expect(wizard.textContent).toContain('Custom: http://127.0.0.1:9000');
    expect(wizard.textContent).not.toContain(OKX_SECRET);
    expect(wizard.textContent).not.toContain(OKX_KEY);
    const secretInputs = ['#api-key', '#api-secret', '#passphrase'].map($input);
    expect(document.activeElement?.id).toBe('wizard-save');

    click('#wizard-save');
    await flush();

    const adds = backend.calls.filter((c) => c.cmd === 'add_key');
    expect(adds).toHaveLength(1);
    expect(adds[0]!.args).toEqual({
      input: {
        exchange: 'okx',
        label: 'okx-bot-main',
        environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:9000' },
        apiKey: OKX_KEY,
        apiSecret: OKX_SECRET,
        passphrase: OKX_PASS,
        rotationDays: 30,
      },
    });
    for (const el of secretInputs) expect(el.value).toBe('');
    expect(document.querySelector('#wizard')).toBeNull();
    const card = $('[data-testid=key-card][data-label=okx-bot-main]');
    expect(card.querySelector('.key-exchange')?.textContent).toBe('OKX');
    expect(document.activeElement).toBe(card);
    expect(document.body.textContent).not.toContain(OKX_SECRET);
    expect(document.getElementById('app')?.hasAttribute('inert')).toBe(false);
  });

  it('sends no passphrase for Binance and hides its field', async () => {
    click('#add-key');
    click('input[name=exchange][value=okx]');
    click('input[name=exchange][value=binance]');
    click('#wizard-next');
    expect($('#passphrase').closest('.field')?.hasAttribute('hidden')).toBe(true);
    type('#api-key', BINANCE_KEY);
    type('#api-secret', BINANCE_SECRET);
    click('#wizard-next');
    type('#label', 'binance-main');
    click('#wizard-next');
    click('#wizard-save');
    await flush();
    expect(backend.calls.find((c) => c.cmd === 'add_key')?.args).toEqual({
      input: {
        exchange: 'binance',
        label: 'binance-main',
        environment: { kind: 'live' },
        apiKey: BINANCE_KEY,
        apiSecret: BINANCE_SECRET,
        passphrase: null,
        rotationDays: 90,
      },
    });
  });

  it('works from the keyboard: Enter moves on, focus lands on each step’s first field, Escape cancels', () => {
    click('#add-key');
    const okx = $input('input[name=exchange][value=okx]');
    expect(document.activeElement).toBe(okx);
    press('Enter');
    expect(step()).toBe('exchange');
    expect($('[data-error-for=exchange]').textContent).toContain('Choose the exchange');
    okx.click();
    press('Enter', okx);
    expect(step()).toBe('credentials');
    expect(document.activeElement?.id).toBe('api-key');
    type('#api-key', OKX_KEY);
    type('#api-secret', OKX_SECRET);
    type('#passphrase', OKX_PASS);
    press('Enter', $('#passphrase'));
    expect(step()).toBe('details');
    expect(document.activeElement?.id).toBe('label');
    const secretInputs = ['#api-key', '#api-secret', '#passphrase'].map($input);
    press('Escape');
    expect(document.querySelector('#wizard')).toBeNull();
    for (const el of secretInputs) expect(el.value).toBe('');
    expect(backend.calls.some((c) => c.cmd === 'add_key')).toBe(false);
    expect(document.activeElement?.id).toBe('add-key');
  });

  it('keeps Tab inside the dialog', () => {
    click('#add-key');
    const cancel = $('#wizard-cancel');
    const next = $('#wizard-next');
    next.focus();
    press('Tab', next);
    expect(document.activeElement).toBe($('input[name=exchange][value=okx]'));
    press('Tab', document.activeElement!, { shiftKey: true });
    expect(document.activeElement).toBe(next);
    expect(cancel.closest('#wizard')).toBeTruthy();
    expect(document.getElementById('app')?.hasAttribute('inert')).toBe(true);
  });

  it('blocks Next with inline errors and sends nothing', () => {
    click('#add-key');
    click('input[name=exchange][value=okx]');
    click('#wizard-next');
    type('#api-key', 'not-a-uuid');
    type('#api-secret', 'hunter2-SECRET');
    click('#wizard-next');
    expect(step()).toBe('credentials');
    expect($('[data-error-for=apiKey]').textContent).toContain('8-4-4-4-12');
    expect($('[data-error-for=apiSecret]').textContent).toContain('32 hex');
    expect($('[data-error-for=passphrase]').textContent).toContain('passphrase');
    expect($('#api-key').getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement?.id).toBe('api-key');
    expect(document.body.textContent).not.toContain('hunter2-SECRET');
    type('#api-key', OKX_KEY);
    expect($('[data-error-for=apiKey]').hidden).toBe(true);
    expect(backend.calls.filter((c) => c.cmd === 'add_key')).toHaveLength(0);
  });

  it('catches a label already in use before saving', async () => {
    backend.keys = [record({ exchange: 'okx', label: 'OKX-bot-main', environment: { kind: 'live' }, apiKey: '', apiSecret: '', passphrase: null, rotationDays: 90 }, 'k1')];
    await app.refresh();
    await fillOkx('okx-bot-main');
    expect(step()).toBe('details');
    expect($('[data-error-for=label]').textContent).toContain('already has this label');
  });

  it('shows a Rust error with a field inline on that field’s step', async () => {
    await fillOkx();
    backend.addError = { kind: 'invalid', message: 'A key labelled that already exists: choose another label.', field: 'label' };
    click('#wizard-save');
    await flush();
    expect(step()).toBe('details');
    expect($('[data-error-for=label]').textContent).toBe('A key labelled that already exists: choose another label.');
    expect(document.activeElement?.id).toBe('label');
    expect(document.querySelector('#error-banner')?.hasAttribute('hidden')).toBe(true);
    // Fix it and save again: the credentials were kept, so nothing has to be pasted twice.
    type('#label', 'okx-bot-2');
    click('#wizard-next');
    click('#wizard-save');
    await flush();
    const adds = backend.calls.filter((c) => c.cmd === 'add_key');
    expect(adds).toHaveLength(2);
    expect((adds[1]!.args as { input: AddKeyInput }).input.label).toBe('okx-bot-2');
    expect($('[data-testid=key-card][data-label=okx-bot-2]')).toBeTruthy();
  });

  it('clears a credential Rust rejected and sends the user back to paste it', async () => {
    await fillOkx();
    backend.addError = { kind: 'invalid', message: 'An OKX secret key is 32 hex characters (0-9, A-F).', field: 'apiSecret' };
    click('#wizard-save');
    await flush();
    expect(step()).toBe('credentials');
    expect($input('#api-secret').value).toBe('');
    expect($('[data-error-for=apiSecret]').textContent).toContain('32 hex');
    expect(document.activeElement?.id).toBe('api-secret');
  });

  it('shows a Rust error without a field in the banner inside the wizard', async () => {
    await fillOkx();
    backend.addError = { kind: 'keychain', message: 'No keychain available: unlock your login keyring or start gnome-keyring/KWallet.' };
    click('#wizard-save');
    await flush();
    expect(step()).toBe('confirm');
    const banner = $('#error-banner');
    expect(banner.hidden).toBe(false);
    expect(banner.closest('#wizard')).toBeTruthy();
    expect(banner.textContent).toBe('No keychain available: unlock your login keyring or start gnome-keyring/KWallet.');
    expect(document.querySelectorAll('#error-banner')).toHaveLength(1);
    click('#wizard-cancel');
    expect($('#error-banner').closest('#wizard')).toBeNull();
    expect($('#error-banner').hidden).toBe(true);
  });

  it('puts a non-JSON rejection in the banner too', async () => {
    await fillOkx();
    backend.addError = 'command add_key not found' as unknown as IpcError;
    click('#wizard-save');
    await flush();
    expect($('#error-banner').textContent).toBe('command add_key not found');
  });
});
