// The window with IPC mocked: the wizard checks the key with the exchange, sends exactly the
// AddKeyInput Rust expects, never shows a secret, clears the secret inputs, and puts Rust's errors
// where the user can act on them; cards show findings and re-check keys.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AddKeyInput, Finding, InspectResult, IpcError, KeyInspection, KeyView, KeychainStatus, Orphan } from './api/types';
import { mountApp, type App } from './app';
import { keyView } from './test-support/fixtures';

const OKX_KEY = '37c541a1-1234-4abc-9def-10fe7a038418';
const OKX_SECRET = '22582BD0CFF14C41EDBF1AB98506286D';
const OKX_PASS = 'Pass phrase 1';
const BINANCE_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const BINANCE_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const NOW = new Date('2025-03-10T12:00:00Z');

const INSPECTION: KeyInspection = {
  exchange: 'okx',
  permissions: ['read', 'trade', 'withdraw'],
  ipRestricted: false,
  ipWhitelist: [],
  expiresAt: '2025-03-20T12:00:00Z',
  createdAt: '2025-01-02T00:00:00Z',
  accountKind: 'sub',
  accountUid: '4471',
  masterUid: '1001',
  label: 'bot',
  demo: false,
};
// In Rust's order, which is not severity order: the UI sorts.
const FINDINGS: Finding[] = [
  { severity: 'warning', code: 'expiring_soon', message: 'The key expires in 10 days.' },
  { severity: 'high', code: 'trade_without_ip_whitelist', message: 'The key can trade from any IP address.' },
  { severity: 'critical', code: 'withdraw_enabled', message: 'The key can withdraw funds.' },
];

interface Deferred {
  promise: Promise<void>;
  release: () => void;
}

function deferred(): Deferred {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

interface Backend {
  keys: KeyView[];
  calls: { cmd: string; args: unknown }[];
  keychain: KeychainStatus;
  /** When set, the next add_key rejects with it. */
  addError: IpcError | null;
  /** What inspect_credentials and verify_key report. */
  inspect: InspectResult;
  /** When set, the next inspect_credentials / verify_key rejects with it. */
  inspectError: IpcError | null;
  verifyError: IpcError | null;
  /** When set, inspect_credentials and verify_key wait for it. */
  gate: Deferred | null;
  /** verify_key answers as Rust does for a key its exchange no longer knows: marked, then refused. */
  rejectOnVerify: boolean;
  /** What orphan_keys reports at start. */
  orphans: Orphan[];
}

let backend: Backend;
let app: App;

type RecordInput = Pick<AddKeyInput, 'exchange' | 'label' | 'environment' | 'rotationDays'> & Partial<AddKeyInput>;

function record(input: RecordInput, id = `id-${backend.keys.length + 1}`): KeyView {
  return keyView({
    id,
    exchange: input.exchange,
    label: input.label,
    environment: input.environment,
    keyHint: 'from…rust',
    createdAt: '2025-03-07T11:00:00Z',
    rotatedAt: '2025-03-07T11:00:00Z',
    verifiedAt: null,
    rotationDays: input.rotationDays ?? 90,
    permissions: [],
    ipWhitelist: [],
    status: 'active',
    inspection: null,
    botsAllowed: input.botsAllowed ?? true,
    findings: [],
  });
}

function verified(view: KeyView, verifiedAt = '2025-03-08T09:00:00Z'): KeyView {
  const { inspection, findings } = structuredClone(backend.inspect);
  return { ...view, verifiedAt, inspection, findings, permissions: inspection.permissions, ipWhitelist: inspection.ipWhitelist };
}

function install(): void {
  mockIPC(async (cmd, args) => {
    // Keep a deep copy: the wizard blanks the payload it sent once Rust has answered.
    backend.calls.push({ cmd, args: structuredClone(args) });
    if ((cmd === 'inspect_credentials' || cmd === 'verify_key') && backend.gate) await backend.gate.promise;
    switch (cmd) {
      case 'list_keys':
        return structuredClone(backend.keys);
      case 'keychain_status':
        return backend.keychain;
      case 'guard_status':
        return { enrolled: true, lockedUntil: null, recoveryCodesLeft: 10, setupSkipped: false };
      case 'add_key': {
        if (backend.addError) {
          const e = backend.addError;
          backend.addError = null;
          throw e;
        }
        const input = (args as { input: AddKeyInput }).input;
        const r = input.verify ? verified(record(input), NOW.toISOString()) : record(input);
        backend.keys.push(r);
        return r;
      }
      case 'inspect_credentials': {
        if (backend.inspectError) {
          const e = backend.inspectError;
          backend.inspectError = null;
          throw e;
        }
        return structuredClone(backend.inspect);
      }
      case 'verify_key': {
        const id = (args as { id: string }).id;
        if (backend.rejectOnVerify) {
          backend.keys = backend.keys.map((k) => (k.id === id ? { ...k, status: 'rejected' } : k));
          throw {
            kind: 'exchange',
            code: 'invalid_key',
            field: 'apiKey',
            message: 'Bybit does not recognise this API key (10003).',
          };
        }
        if (backend.verifyError) {
          const e = backend.verifyError;
          backend.verifyError = null;
          throw e;
        }
        const i = backend.keys.findIndex((k) => k.id === id);
        if (i < 0) throw { kind: 'not_found', message: 'No key with that id.' };
        backend.keys[i] = verified(backend.keys[i], NOW.toISOString());
        return structuredClone(backend.keys[i]);
      }
      case 'delete_key': {
        const { id, code } = args as { id: string; code: string };
        if (code !== '123456') throw { kind: 'guard', message: 'Wrong code: check the time on this computer and try again.' };
        if (!backend.keys.some((k) => k.id === id)) throw { kind: 'not_found', message: 'No key with that id.' };
        backend.keys = backend.keys.filter((k) => k.id !== id);
        return null;
      }
      case 'get_key': {
        const key = backend.keys.find((k) => k.id === (args as { id: string }).id);
        if (!key) throw { kind: 'not_found', message: 'No key with that id.' };
        return structuredClone(key);
      }
      case 'orphan_keys':
        return structuredClone(backend.orphans);
      case 'restore_orphan': {
        const { id, input } = args as { id: string; input: { exchange?: 'okx' | 'bybit' | 'binance'; label?: string } };
        const orphan = backend.orphans.find((o) => o.id === id);
        const exchange = input.exchange ?? orphan?.exchange;
        if (!orphan || !exchange) throw { kind: 'invalid', field: 'exchange', message: 'Choose the exchange.' };
        const r = record(
          {
            exchange,
            label: input.label ?? orphan.label ?? 'restored',
            environment: orphan.environment ?? { kind: 'live' },
            rotationDays: 90,
          },
          id,
        );
        backend.keys.push(r);
        backend.orphans = backend.orphans.filter((o) => o.id !== id);
        return { key: r, warning: null };
      }
      case 'delete_orphan': {
        const { id, code } = args as { id: string; code: string | null };
        if (code !== '123456') throw { kind: 'guard', message: 'Wrong code: check the time on this computer and try again.' };
        backend.orphans = backend.orphans.filter((o) => o.id !== id);
        return null;
      }
      case 'set_bots_allowed': {
        const { id, allowed, code } = args as { id: string; allowed: boolean; code: string | null };
        if (allowed && code !== '123456')
          throw { kind: 'guard', message: 'Wrong code: check the time on this computer and try again.' };
        const i = backend.keys.findIndex((k) => k.id === id);
        backend.keys[i] = { ...backend.keys[i], botsAllowed: allowed };
        return structuredClone(backend.keys[i]);
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
const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
};
const verifyState = () => $('#verify-result').getAttribute('data-state');
const codes = (root: ParentNode) =>
  [...root.querySelectorAll<HTMLElement>('.finding')].map((f) => [f.dataset.code, f.dataset.severity]);

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
  backend = {
    keys: [],
    calls: [],
    keychain: { ok: true, service: 'latchkey', message: null },
    addError: null,
    inspect: { inspection: structuredClone(INSPECTION), findings: structuredClone(FINDINGS) },
    inspectError: null,
    verifyError: null,
    gate: null,
    rejectOnVerify: false,
    orphans: [],
  };
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
      {
        ...record(
          {
            exchange: 'bybit',
            label: 'bybit <b>bot</b>',
            environment: { kind: 'demo' },
            apiKey: '',
            apiSecret: '',
            passphrase: null,
            rotationDays: 90,
          },
          'k1',
        ),
      },
      {
        ...record(
          {
            exchange: 'binance',
            label: 'hodl',
            environment: { kind: 'live' },
            apiKey: '',
            apiSecret: '',
            passphrase: null,
            rotationDays: 90,
          },
          'k2',
        ),
        status: 'quarantined',
      },
    ];
    await app.refresh();
    const cards = [...document.querySelectorAll<HTMLElement>('[data-testid=key-card]')];
    expect(cards.map((c) => c.dataset.label)).toEqual(['bybit <b>bot</b>', 'hodl']);
    const first = cards[0];
    expect(first.querySelector('.key-label')?.textContent).toBe('bybit <b>bot</b>');
    expect(first.querySelector('b')).toBeNull();
    expect(first.querySelector('.key-exchange')?.textContent).toBe('Bybit');
    expect(first.querySelector('.key-hint')?.textContent).toBe('from…rust');
    expect(first.querySelector('.key-status')?.textContent).toBe('Active');
    expect(first.textContent).toContain('added 3 days ago');
    expect(first.textContent).toContain('Demo / testnet');
    expect(cards[1].querySelector('.key-status')?.textContent).toBe('Quarantined');
    expect(cards[1].querySelector('.key-env')).toBeNull();
    expect(document.querySelector('#empty-state')).toBeNull();
  });

  it('shows a persistent keychain banner when the keychain is unavailable', async () => {
    backend.keychain = { ok: false, service: 'latchkey', message: 'No keychain available: unlock your login keyring.' };
    await start();
    const b = $('#keychain-banner');
    expect(b.hidden).toBe(false);
    expect(b.textContent).toContain('unlock your login keyring');
  });

  it('deletes a key after confirmation with a 2FA code', async () => {
    backend.keys = [
      record(
        {
          exchange: 'okx',
          label: 'gone',
          environment: { kind: 'live' },
          apiKey: '',
          apiSecret: '',
          passphrase: null,
          rotationDays: 90,
        },
        'k9',
      ),
    ];
    await app.refresh();
    click('[data-testid=key-card][data-label=gone] .delete-key');
    expect(document.activeElement?.id).toBe('guard-code');
    expect($('#guard-code').getAttribute('autocomplete')).toBe('one-time-code');
    press('Escape');
    await flush();
    expect(document.querySelector('#confirm-delete')).toBeNull();
    expect(backend.calls.some((c) => c.cmd === 'delete_key')).toBe(false);

    click('[data-testid=key-card][data-label=gone] .delete-key');
    // No code: nothing is sent.
    click('#confirm-delete');
    await flush();
    expect($('[data-error-for=code]').textContent).toContain('Enter the code');
    expect(backend.calls.some((c) => c.cmd === 'delete_key')).toBe(false);
    // A wrong code: Rust's message under the field, the dialog stays.
    type('#guard-code', '654321');
    press('Enter', $('#guard-code'));
    await flush();
    expect($('[data-error-for=code]').textContent).toBe('Wrong code: check the time on this computer and try again.');
    expect(document.querySelector('[data-testid=key-card][data-label=gone]')).toBeTruthy();
    type('#guard-code', ' 123 456 ');
    click('#confirm-delete');
    await flush();
    expect(backend.calls.filter((c) => c.cmd === 'delete_key').map((c) => c.args)).toEqual([
      { id: 'k9', code: '654321' },
      { id: 'k9', code: '123456' },
    ]);
    expect(document.querySelector('#delete-dialog')).toBeNull();
    expect(document.querySelector('[data-testid=key-card]')).toBeNull();
    expect($('#empty-state')).toBeTruthy();
  });
});

describe('add key wizard', () => {
  it('sends exactly the AddKeyInput, never shows the secret, and clears the secret inputs', async () => {
    await fillOkx();
    await flush();
    expect(step()).toBe('confirm');
    expect(verifyState()).toBe('ok');
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
    expect(adds[0].args).toEqual({
      input: {
        exchange: 'okx',
        label: 'okx-bot-main',
        environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:9000' },
        apiKey: OKX_KEY,
        apiSecret: OKX_SECRET,
        passphrase: OKX_PASS,
        exchangeCode: null,
        rotationDays: 30,
        verify: true,
        botsAllowed: true,
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
    await flush();
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
        exchangeCode: null,
        rotationDays: 90,
        verify: true,
        botsAllowed: true,
      },
    });
    expect(backend.calls.find((c) => c.cmd === 'inspect_credentials')?.args).toEqual({
      input: {
        exchange: 'binance',
        environment: { kind: 'live' },
        apiKey: BINANCE_KEY,
        apiSecret: BINANCE_SECRET,
        passphrase: null,
        exchangeCode: null,
      },
    });
  });

  it('works from the keyboard: Enter moves on, focus lands on each step’s first field, Escape cancels', async () => {
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
    // Credentials were typed: Escape asks first (issue 11, item 5).
    expect(document.activeElement?.id).toBe('discard-dialog-cancel');
    click('#discard-dialog-confirm');
    await flush();
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
    backend.keys = [
      record(
        {
          exchange: 'okx',
          label: 'OKX-bot-main',
          environment: { kind: 'live' },
          apiKey: '',
          apiSecret: '',
          passphrase: null,
          rotationDays: 90,
        },
        'k1',
      ),
    ];
    await app.refresh();
    await fillOkx('okx-bot-main');
    expect(step()).toBe('details');
    expect($('[data-error-for=label]').textContent).toContain('already has this label');
  });

  it('shows a Rust error with a field inline on that field’s step', async () => {
    await fillOkx();
    await flush();
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
    await flush();
    click('#wizard-save');
    await flush();
    const adds = backend.calls.filter((c) => c.cmd === 'add_key');
    expect(adds).toHaveLength(2);
    expect((adds[1].args as { input: AddKeyInput }).input.label).toBe('okx-bot-2');
    expect($('[data-testid=key-card][data-label=okx-bot-2]')).toBeTruthy();
  });

  it('clears a credential Rust rejected and sends the user back to paste it', async () => {
    await fillOkx();
    await flush();
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
    await flush();
    backend.addError = {
      kind: 'keychain',
      message: 'No keychain available: unlock your login keyring or start gnome-keyring/KWallet.',
    };
    click('#wizard-save');
    await flush();
    expect(step()).toBe('confirm');
    const banner = $('#error-banner');
    expect(banner.hidden).toBe(false);
    expect(banner.closest('#wizard')).toBeTruthy();
    expect(banner.textContent).toBe('No keychain available: unlock your login keyring or start gnome-keyring/KWallet.');
    expect(document.querySelectorAll('#error-banner')).toHaveLength(1);
    click('#wizard-cancel');
    click('#discard-dialog-confirm');
    await flush();
    expect($('#error-banner').closest('#wizard')).toBeNull();
    expect($('#error-banner').hidden).toBe(true);
  });

  it('puts a non-JSON rejection in the banner too', async () => {
    await fillOkx();
    await flush();
    backend.addError = 'command add_key not found' as unknown as IpcError;
    click('#wizard-save');
    await flush();
    expect($('#error-banner').textContent).toBe('command add_key not found');
  });
});

describe('add key wizard: typed credentials are not thrown away (issue 11, item 5)', () => {
  it('Cancel and Escape ask first; Keep editing keeps every value, Discard empties the inputs', async () => {
    click('#add-key');
    click('input[name=exchange][value=okx]');
    click('#wizard-next');
    type('#api-key', OKX_KEY);
    type('#api-secret', OKX_SECRET);
    click('#wizard-cancel');
    await flush();
    const dialog = $('#discard-dialog');
    expect(dialog.getAttribute('role')).toBe('alertdialog');
    expect(dialog.textContent).toContain('Discard the key you typed?');
    expect(document.activeElement?.id).toBe('discard-dialog-cancel');
    // The wizard below is inert while the question is open, and stays.
    expect($('#wizard').closest('.backdrop')?.hasAttribute('inert')).toBe(true);
    click('#discard-dialog-cancel');
    await flush();
    expect(document.querySelector('#discard-dialog')).toBeNull();
    expect($input('#api-key').value).toBe(OKX_KEY);
    expect($input('#api-secret').value).toBe(OKX_SECRET);
    expect($('#wizard').closest('.backdrop')?.hasAttribute('inert')).toBe(false);

    // Escape asks too; Escape in the question answers "keep editing".
    press('Escape', $('#api-secret'));
    await flush();
    expect($('#discard-dialog')).toBeTruthy();
    press('Escape', $('#discard-dialog-cancel'));
    await flush();
    expect(document.querySelector('#discard-dialog')).toBeNull();
    expect($input('#api-secret').value).toBe(OKX_SECRET);
    // Pressing Cancel twice opens one question, not two.
    click('#wizard-cancel');
    click('#wizard-cancel');
    await flush();
    expect(document.querySelectorAll('#discard-dialog')).toHaveLength(1);
    const inputs = ['#api-key', '#api-secret'].map($input);
    click('#discard-dialog-confirm');
    await flush();
    expect(document.querySelector('#wizard')).toBeNull();
    for (const el of inputs) expect(el.value).toBe('');
    expect(backend.calls.some((c) => c.cmd === 'add_key')).toBe(false);
    expect(document.getElementById('app')?.hasAttribute('inert')).toBe(false);
  });

  it('closes at once when no credential was typed', async () => {
    click('#add-key');
    click('input[name=exchange][value=bybit]');
    click('#wizard-next');
    type('#api-key', '');
    click('#wizard-cancel');
    await flush();
    expect(document.querySelector('#discard-dialog')).toBeNull();
    expect(document.querySelector('#wizard')).toBeNull();
  });

  it('offers the last key’s custom environment and base URL again for the next key', async () => {
    await fillOkx();
    await flush();
    click('#wizard-save');
    await flush();
    expect(document.querySelector('#wizard')).toBeNull();
    click('#add-key');
    expect($input('#environment').value).toBe('custom');
    expect($input('#base-url').value).toBe('http://127.0.0.1:9000');
    expect($('#base-url').closest('.field')?.hasAttribute('hidden')).toBe(false);
    // A remembered base URL is not something typed: nothing to discard.
    click('#wizard-cancel');
    await flush();
    expect(document.querySelector('#wizard')).toBeNull();
  });
});

describe('verify with the exchange', () => {
  it('checks the key on the confirm step, shows what the exchange reports, then saves with verify: true', async () => {
    backend.gate = deferred();
    await fillOkx();
    expect(step()).toBe('confirm');
    expect(verifyState()).toBe('checking');
    expect($('#verify-result').textContent).toContain('Checking with OKX…');
    expect($<HTMLButtonElement>('#wizard-save').disabled).toBe(true);
    click('#wizard-save');
    press('Enter', $('#wizard'));
    expect(backend.calls.some((c) => c.cmd === 'add_key')).toBe(false);

    backend.gate.release();
    await flush();
    expect(verifyState()).toBe('ok');
    expect($<HTMLButtonElement>('#wizard-save').disabled).toBe(false);
    expect(document.activeElement?.id).toBe('wizard-save');
    const result = $('#verify-result');
    expect([...result.querySelectorAll<HTMLElement>('.permission')].map((p) => p.dataset.permission)).toEqual([
      'read',
      'trade',
      'withdraw',
    ]);
    expect(result.querySelector('.permission[data-permission=withdraw]')?.classList.contains('permission-withdraw')).toBe(true);
    expect(result.querySelector('.permission[data-permission=read]')?.classList.contains('permission-withdraw')).toBe(false);
    expect($('#verify-ips').textContent).toBe('No IP whitelist');
    expect($('#verify-expiry').textContent).toBe('Expires in 10 days (2025-03-20)');
    expect($('#verify-account').textContent).toBe('Sub-account · UID 4471 · master UID 1001');
    expect(codes(result)).toEqual([
      ['withdraw_enabled', 'critical'],
      ['trade_without_ip_whitelist', 'high'],
      ['expiring_soon', 'warning'],
    ]);
    expect(result.querySelector('.finding[data-code=withdraw_enabled]')?.textContent).toContain('The key can withdraw funds.');
    expect(result.textContent).not.toContain(OKX_SECRET);
    expect(result.textContent).not.toContain(OKX_PASS);

    click('#wizard-save');
    await flush();
    expect(
      backend.calls
        .map((c) => c.cmd)
        .filter(
          (c) =>
            c !== 'list_keys' &&
            c !== 'keychain_status' &&
            c !== 'guard_status' &&
            c !== 'get_settings' &&
            c !== 'orphan_keys' &&
            c !== 'servers_status',
        ),
    ).toEqual(['inspect_credentials', 'add_key']);
    expect(backend.calls.find((c) => c.cmd === 'inspect_credentials')?.args).toEqual({
      input: {
        exchange: 'okx',
        environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:9000' },
        apiKey: OKX_KEY,
        apiSecret: OKX_SECRET,
        passphrase: OKX_PASS,
        exchangeCode: null,
      },
    });
    expect((backend.calls.find((c) => c.cmd === 'add_key')?.args as { input: AddKeyInput }).input.verify).toBe(true);
    expect(document.querySelector('#wizard')).toBeNull();
    const card = $('[data-testid=key-card][data-label=okx-bot-main]');
    expect(codes(card)[0]).toEqual(['withdraw_enabled', 'critical']);
  });

  it('shows IP-restricted when the exchange gives the flag without the list, and the list when it has one', async () => {
    backend.inspect = { inspection: { ...INSPECTION, ipRestricted: true, ipWhitelist: [] }, findings: [] };
    await fillOkx();
    await flush();
    expect($('#verify-ips').textContent).toBe('IP-restricted');
    expect($('#verify-result').querySelector('.finding')).toBeNull();
    click('#wizard-back');
    backend.inspect = {
      inspection: {
        ...INSPECTION,
        permissions: ['read'],
        ipRestricted: true,
        ipWhitelist: ['1.2.3.4', '5.6.7.8'],
        expiresAt: null,
        accountKind: 'master',
        masterUid: null,
      },
      findings: [{ severity: 'fine', code: 'read_only_ip_bound', message: 'Read-only and bound to IP addresses.' }],
    };
    click('#wizard-next');
    await flush();
    expect($('#verify-ips').textContent).toBe('IP: 1.2.3.4, 5.6.7.8');
    expect(document.querySelector('#verify-expiry')).toBeNull();
    expect($('#verify-account').textContent).toBe('Master account · UID 4471');
    expect(codes($('#verify-result'))).toEqual([['read_only_ip_bound', 'fine']]);
  });

  it('on a rejected credential shows the message in the confirm step and under the field; Try again checks again', async () => {
    backend.inspectError = {
      kind: 'exchange',
      code: 'bad_signature',
      field: 'apiSecret',
      message: 'OKX rejected the signature: check the secret key.',
    };
    await fillOkx();
    await flush();
    expect(step()).toBe('confirm');
    expect(verifyState()).toBe('failed');
    expect($('#verify-error').textContent).toBe('OKX rejected the signature: check the secret key.');
    expect($('#verify-error').dataset.code).toBe('bad_signature');
    expect($('[data-error-for=apiSecret]').textContent).toBe('OKX rejected the signature: check the secret key.');
    expect($input('#api-secret').value).toBe(OKX_SECRET); // kept: saving unverified stays possible
    expect($<HTMLButtonElement>('#wizard-save').disabled).toBe(true);
    expect(document.activeElement?.id).toBe('wizard-retry-verify');
    expect($('#wizard-save-unverified').classList.contains('btn-primary')).toBe(false);
    press('Enter', $('#label'));
    await flush();
    expect(backend.calls.some((c) => c.cmd === 'add_key')).toBe(false);

    click('#wizard-fix-field');
    expect(step()).toBe('credentials');
    expect(document.activeElement?.id).toBe('api-secret');
    expect($('[data-error-for=apiSecret]').hidden).toBe(false);
    click('#wizard-next');
    click('#wizard-next');
    await flush();
    expect(verifyState()).toBe('ok');

    backend.inspectError = { kind: 'exchange', code: 'timeout', message: 'OKX did not answer in time.' };
    click('#wizard-back');
    click('#wizard-next');
    await flush();
    expect(verifyState()).toBe('failed');
    click('#wizard-retry-verify');
    expect(verifyState()).toBe('checking');
    await flush();
    expect(verifyState()).toBe('ok');
    click('#wizard-save');
    await flush();
    const adds = backend.calls.filter((c) => c.cmd === 'add_key');
    expect(adds).toHaveLength(1);
    expect((adds[0].args as { input: AddKeyInput }).input.verify).toBe(true);
  });

  it('saves without verifying only when asked to, with verify: false, and clears the secrets', async () => {
    backend.inspectError = {
      kind: 'exchange',
      code: 'exchange_down',
      message: 'OKX is not answering (HTTP 503). Try again later.',
    };
    await fillOkx();
    await flush();
    expect(verifyState()).toBe('failed');
    expect($('#verify-result').textContent).toContain('OKX is not answering (HTTP 503). Try again later.');
    expect(document.querySelector('#wizard-fix-field')).toBeNull();
    const secretInputs = ['#api-key', '#api-secret', '#passphrase'].map($input);
    click('#wizard-save-unverified');
    await flush();
    const adds = backend.calls.filter((c) => c.cmd === 'add_key');
    expect(adds).toHaveLength(1);
    expect((adds[0].args as { input: AddKeyInput }).input).toMatchObject({
      label: 'okx-bot-main',
      apiSecret: OKX_SECRET,
      verify: false,
    });
    for (const el of secretInputs) expect(el.value).toBe('');
    expect(document.querySelector('#wizard')).toBeNull();
    const card = $('[data-testid=key-card][data-label=okx-bot-main]');
    expect(card.querySelector('.key-verified')?.textContent).toBe('Not verified');
    expect(card.querySelector('.finding')).toBeNull();
  });

  it('treats the exchange refusing the key on save like a failed check', async () => {
    await fillOkx();
    await flush();
    backend.addError = { kind: 'exchange', code: 'ip_not_allowed', message: 'OKX refused this IP address for the key.' };
    click('#wizard-save');
    await flush();
    expect(step()).toBe('confirm');
    expect(verifyState()).toBe('failed');
    expect($('#verify-error').textContent).toBe('OKX refused this IP address for the key.');
    expect($input('#api-secret').value).toBe(OKX_SECRET);
    click('#wizard-save-unverified');
    await flush();
    const adds = backend.calls.filter((c) => c.cmd === 'add_key');
    expect(adds.map((a) => (a.args as { input: AddKeyInput }).input.verify)).toEqual([true, false]);
  });

  it('drops a check that answers after the user left the confirm step or closed the wizard', async () => {
    backend.gate = deferred();
    await fillOkx();
    click('#wizard-back');
    backend.gate.release();
    await flush();
    expect(step()).toBe('details');
    expect($('#verify-result').hidden).toBe(true);
    expect(document.activeElement?.id).toBe('label');

    backend.gate = deferred();
    click('#wizard-next');
    expect(verifyState()).toBe('checking');
    click('#wizard-cancel');
    click('#discard-dialog-confirm');
    await flush();
    expect(document.querySelector('#wizard')).toBeNull();
    backend.gate.release();
    await flush();
    expect(backend.calls.some((c) => c.cmd === 'add_key')).toBe(false);
  });
});

describe('key cards: findings and re-check', () => {
  function withFindings(id: string, label: string, findings: Finding[], over: Partial<KeyView> = {}): KeyView {
    return {
      ...record({ exchange: 'okx', label, environment: { kind: 'live' }, rotationDays: 90 }, id),
      verifiedAt: '2025-03-07T09:00:00Z',
      inspection: { ...INSPECTION, ipWhitelist: ['1.2.3.4', '10.0.0.1'], ipRestricted: true },
      permissions: ['read', 'trade', 'withdraw'],
      findings,
      ...over,
    };
  }

  it('shows findings highest first with a severity accent, permissions, IPs and when it was verified', async () => {
    backend.keys = [
      withFindings('k1', 'risky', FINDINGS),
      withFindings(
        'k2',
        'calm',
        [{ severity: 'fine', code: 'read_only_ip_bound', message: 'Read-only and bound to IP addresses.' }],
        {
          inspection: { ...INSPECTION, permissions: ['read'], ipRestricted: false, ipWhitelist: [] },
          verifiedAt: '2025-03-10T08:00:00Z',
        },
      ),
      record({ exchange: 'bybit', label: 'never', environment: { kind: 'live' }, rotationDays: 90 }, 'k3'),
    ];
    await app.refresh();
    const risky = $('[data-testid=key-card][data-label=risky]');
    expect(risky.classList.contains('risk-critical')).toBe(true);
    expect(risky.dataset.severity).toBe('critical');
    expect(codes(risky)).toEqual([
      ['withdraw_enabled', 'critical'],
      ['trade_without_ip_whitelist', 'high'],
      ['expiring_soon', 'warning'],
    ]);
    const primary = risky.querySelector('.finding-primary');
    expect(primary?.getAttribute('data-code')).toBe('withdraw_enabled');
    expect(primary?.textContent).toContain('The key can withdraw funds.');
    expect([...risky.querySelectorAll<HTMLElement>('.permission')].map((p) => p.dataset.permission)).toEqual([
      'read',
      'trade',
      'withdraw',
    ]);
    expect(risky.querySelector('.key-ips')?.textContent).toBe('IP: 1.2.3.4, 10.0.0.1');
    expect(risky.querySelector('.key-verified')?.textContent).toBe('Verified 3 days ago');

    const calm = $('[data-testid=key-card][data-label=calm]');
    expect(calm.classList.contains('risk-fine')).toBe(true);
    expect(codes(calm)).toEqual([['read_only_ip_bound', 'fine']]);
    expect(calm.querySelector('.key-ips')?.textContent).toBe('No IP whitelist');
    expect(calm.querySelector('.key-verified')?.textContent).toBe('Verified today');

    const never = $('[data-testid=key-card][data-label=never]');
    expect(never.dataset.severity).toBeUndefined();
    expect(never.querySelector('.finding, .permission, .key-ips')).toBeNull();
    expect(never.querySelector('.key-verified')?.textContent).toBe('Not verified');
    expect(never.querySelector('.recheck-key')).toBeTruthy();
  });

  it('Re-check asks the exchange again and updates the card', async () => {
    backend.keys = [record({ exchange: 'okx', label: 'fresh', environment: { kind: 'live' }, rotationDays: 90 }, 'k1')];
    await app.refresh();
    backend.gate = deferred();
    click('[data-testid=key-card][data-label=fresh] .recheck-key');
    const busy = $('[data-testid=key-card][data-label=fresh]');
    expect(busy.getAttribute('aria-busy')).toBe('true');
    expect(busy.querySelector<HTMLButtonElement>('.recheck-key')?.disabled).toBe(true);
    expect(busy.querySelector('.recheck-key')?.textContent).toBe('Checking…');
    click('[data-testid=key-card][data-label=fresh] .recheck-key');
    backend.gate.release();
    await flush();
    expect(backend.calls.filter((c) => c.cmd === 'verify_key').map((c) => c.args)).toEqual([{ id: 'k1' }]);
    const card = $('[data-testid=key-card][data-label=fresh]');
    expect(card.hasAttribute('aria-busy')).toBe(false);
    expect(card.querySelector('.key-verified')?.textContent).toBe('Verified today');
    expect(codes(card)[0]).toEqual(['withdraw_enabled', 'critical']);
    expect(card.querySelector('.permission[data-permission=withdraw]')).toBeTruthy();
    expect(card.querySelector('.card-error')).toBeNull();
    expect(document.activeElement).toBe(card.querySelector('.recheck-key'));
    expect($('#status').textContent).toContain('re-checked with OKX');
  });

  it('shows a failed Re-check on the card and keeps what was known', async () => {
    backend.keys = [withFindings('k1', 'old', FINDINGS)];
    await app.refresh();
    backend.verifyError = { kind: 'exchange', code: 'invalid_key', field: 'apiKey', message: 'OKX does not know this API key.' };
    click('[data-testid=key-card][data-label=old] .recheck-key');
    await flush();
    const card = $('[data-testid=key-card][data-label=old]');
    expect(card.querySelector('.card-error')?.textContent).toBe('OKX does not know this API key.');
    expect(card.querySelector('.key-verified')?.textContent).toBe('Verified 3 days ago');
    expect(codes(card)).toHaveLength(3);
    expect($('#error-banner').hidden).toBe(true);
    // A later success clears the error.
    click('[data-testid=key-card][data-label=old] .recheck-key');
    await flush();
    expect($('[data-testid=key-card][data-label=old]').querySelector('.card-error')).toBeNull();
  });
});

describe('key truth', () => {
  it('a key its exchange no longer knows shows as rejected, not active', async () => {
    backend.keys = [
      {
        ...record({ exchange: 'bybit', label: 'grid-bot', environment: { kind: 'live' }, rotationDays: 90 }, 'k1'),
        verifiedAt: '2025-03-07T09:00:00Z',
      },
    ];
    await app.refresh();
    backend.rejectOnVerify = true;
    click('[data-testid=key-card][data-label=grid-bot] .recheck-key');
    await flush();
    const card = $('[data-testid=key-card][data-label=grid-bot]');
    expect(card.querySelector('.key-status')?.textContent).toBe('Rejected by Bybit (deleted or expired?)');
    expect(card.querySelector('.key-status')?.getAttribute('data-status')).toBe('rejected');
    expect(card.querySelector('.card-error')?.textContent).toContain('does not recognise this API key');
    expect(card.querySelector('.rejected-note')?.textContent).toContain('deleted there or has expired');
    expect(card.querySelector('.key-verified')?.textContent).toBe('Verified 3 days ago');
    expect(card.querySelector<HTMLElement>('.recheck-key')?.hidden).toBe(false);
    expect(card.querySelector('.rotate-key')).toBeNull();
  });

  it('offers keychain items no key describes at start: restore one, delete another with a code', async () => {
    backend.orphans = [
      { id: 'o1', exchange: 'bybit', environment: { kind: 'live' }, label: 'lost-bot', keyHint: 'KKZx…RbO' },
      { id: 'o2', exchange: null, environment: null, label: null, keyHint: 'p7QY…kvJ' },
    ];
    await start();
    await flush();
    const dialog = $('#orphans-dialog');
    expect(dialog.querySelector('#orphans-title')?.textContent).toBe('2 keys in your keychain are not on the list');
    const first = $('.orphan-item[data-id=o1]');
    expect(first.textContent).toContain('lost-bot');
    expect(first.querySelector('.orphan-exchange')).toBeNull();
    const second = $('.orphan-item[data-id=o2]');
    expect(second.textContent).toContain('exchange not recorded');
    // Restoring an item that does not say its exchange asks for it first.
    second.querySelector<HTMLElement>('.orphan-restore')!.click();
    await flush();
    expect(second.querySelector('.card-error')?.textContent).toContain('choose the exchange first');
    expect(backend.calls.some((c) => c.cmd === 'restore_orphan')).toBe(false);

    expect(first.querySelector('.orphan-environment')).toBeNull();
    expect(second.querySelector('.orphan-environment')).toBeTruthy();
    first.querySelector<HTMLElement>('.orphan-restore')!.click();
    await flush();
    expect(backend.calls.find((c) => c.cmd === 'restore_orphan')?.args).toEqual({ id: 'o1', input: { label: 'lost-bot' } });
    expect(first.getAttribute('data-state')).toBe('restored');
    expect(first.querySelector('.orphan-status')?.textContent).toBe('Restored as “lost-bot”.');

    second.querySelector<HTMLElement>('.orphan-delete')!.click();
    const code = second.querySelector<HTMLInputElement>('.orphan-code')!;
    expect(code.hidden).toBe(false);
    code.value = '000000';
    second.querySelector<HTMLElement>('.orphan-confirm-delete')!.click();
    await flush();
    expect(second.querySelector('.card-error')?.textContent).toContain('Wrong code');
    expect(second.hasAttribute('data-state')).toBe(false);
    code.value = '123456';
    second.querySelector<HTMLElement>('.orphan-confirm-delete')!.click();
    await flush();
    expect(second.getAttribute('data-state')).toBe('deleted');
    expect(code.value).toBe('');

    click('#orphans-later');
    await flush();
    expect(document.querySelector('#orphans-dialog')).toBeNull();
    expect(document.querySelector('[data-testid=key-card][data-label=lost-bot]')).toBeTruthy();
  });

  it('asks for the exchange and environment an old item does not record', async () => {
    backend.orphans = [{ id: 'o3', exchange: null, environment: null, label: null, keyHint: 'p7QY…kvJ' }];
    await start();
    await flush();
    const item = $('.orphan-item[data-id=o3]');
    type('.orphan-item[data-id=o3] .orphan-exchange', 'bybit');
    type('.orphan-item[data-id=o3] .orphan-environment', 'demo');
    type('.orphan-item[data-id=o3] .orphan-label', 'old-bot');
    item.querySelector<HTMLElement>('.orphan-restore')!.click();
    await flush();
    expect(backend.calls.find((c) => c.cmd === 'restore_orphan')?.args).toEqual({
      id: 'o3',
      input: { exchange: 'bybit', environment: { kind: 'demo' }, label: 'old-bot' },
    });
    expect(item.getAttribute('data-state')).toBe('restored');
  });

  it('says nothing at start when every keychain item has its key', () => {
    expect(backend.calls.some((c) => c.cmd === 'orphan_keys')).toBe(true);
    expect(document.querySelector('#orphans-dialog')).toBeNull();
  });
});

describe('bots may use this key', () => {
  it('is left off from the wizard, turned on only with a code, and off again without one', async () => {
    click('#add-key');
    click('input[name=exchange][value=okx]');
    click('#wizard-next');
    type('#api-key', OKX_KEY);
    type('#api-secret', OKX_SECRET);
    type('#passphrase', OKX_PASS);
    click('#wizard-next');
    type('#label', 'personal');
    click('#wizard-next');
    await flush();
    expect(step()).toBe('confirm');
    expect($input('#bots-allowed').checked).toBe(true);
    click('#bots-allowed');
    click('#wizard-save');
    await flush();
    const add = backend.calls.find((c) => c.cmd === 'add_key')?.args as { input: AddKeyInput };
    expect(add.input.botsAllowed).toBe(false);
    const card = () => $('[data-testid=key-card][data-label=personal]');
    expect(card().querySelector<HTMLInputElement>('.bots-allowed')!.checked).toBe(false);
    expect(card().textContent).toContain('Bots may not use this key');

    // On: asks for a code; a wrong one leaves it off, the right one turns it on.
    card().querySelector<HTMLInputElement>('.bots-allowed')!.click();
    await flush();
    expect(card().querySelector<HTMLInputElement>('.bots-allowed')!.checked).toBe(false);
    type('#guard-code', '000000');
    click('#bots-confirm');
    await flush();
    expect($('#bots-dialog').textContent).toContain('Wrong code');
    type('#guard-code', '123456');
    click('#bots-confirm');
    await flush();
    expect(document.querySelector('#bots-dialog')).toBeNull();
    expect(card().querySelector<HTMLInputElement>('.bots-allowed')!.checked).toBe(true);
    const sets = backend.calls.filter((c) => c.cmd === 'set_bots_allowed').map((c) => c.args);
    expect(sets.at(-1)).toEqual({ id: card().dataset.id, allowed: true, code: '123456' });

    // Off: no dialog, no code.
    card().querySelector<HTMLInputElement>('.bots-allowed')!.click();
    await flush();
    expect(document.querySelector('#bots-dialog')).toBeNull();
    expect(backend.calls.filter((c) => c.cmd === 'set_bots_allowed').at(-1)?.args).toEqual({
      id: card().dataset.id,
      allowed: false,
      code: null,
    });
    expect(card().querySelector<HTMLInputElement>('.bots-allowed')!.checked).toBe(false);
  });
});
