// Issue 11, item 1: 2FA is set up before the emergency, not during it. With IPC mocked the way Rust
// answers: after the first key is saved without 2FA, the wizard's last step is enrolment (the same
// flow as the 2FA dialog); it ends with 2FA on or the explicit skip, which Rust records so the next
// key does not ask again. Reveal and Copy say "2FA is not set up" before asking for any code.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AddKeyInput, GuardStatus, KeyView } from './api/types';
import { mountApp } from './app';
import { keyView } from './test-support/fixtures';
import { LOCKED_WITHOUT_2FA, SKIP_2FA_ACCEPTANCE } from './guard/guarded';

const NOW = new Date('2025-03-10T12:00:00Z');
const BYBIT_KEY = 'ABCDEFGHIJ12345678';
const BYBIT_SECRET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const QR = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29"><path d="M4 4h7v1H4z"/></svg>';
const RECOVERY = Array.from({ length: 10 }, (_, i) => `r${i}aa-bbbb-cccc`);

interface Backend {
  keys: KeyView[];
  guard: GuardStatus;
  calls: { cmd: string; args: Record<string, unknown> }[];
}
let backend: Backend;

function view(input: AddKeyInput, id: string): KeyView {
  return keyView({
    id,
    label: input.label,
    exchange: input.exchange,
    environment: input.environment,
    keyHint: 'ABCD…5678',
    createdAt: NOW.toISOString(),
    rotatedAt: NOW.toISOString(),
    verifiedAt: NOW.toISOString(),
    rotationDays: input.rotationDays ?? 90,
    permissions: ['read'],
    ipWhitelist: [],
    status: 'active',
    inspection: null,
    findings: [],
    botsAllowed: true,
  });
}

function install(): void {
  mockIPC(async (cmd, raw) => {
    const args = structuredClone((raw ?? {}) as Record<string, unknown>);
    backend.calls.push({ cmd, args });
    switch (cmd) {
      case 'list_keys':
        return structuredClone(backend.keys);
      case 'keychain_status':
        return { ok: true, service: 'latchkey', message: null };
      case 'guard_status':
        return { ...backend.guard };
      case 'get_settings':
        return { defaultRotationDays: 90, dueSoonDays: 14, notifications: true, startAtLogin: false };
      case 'orphan_keys':
        return [];
      case 'inspect_credentials':
        return {
          inspection: {
            exchange: 'bybit',
            permissions: ['read'],
            ipRestricted: true,
            ipWhitelist: ['127.0.0.1'],
            expiresAt: null,
            createdAt: null,
            accountKind: 'main',
            accountUid: '1',
            masterUid: null,
            label: null,
            demo: false,
          },
          findings: [],
        };
      case 'add_key': {
        const r = view((args as { input: AddKeyInput }).input, `id-${backend.keys.length + 1}`);
        backend.keys.push(r);
        return r;
      }
      case 'guard_begin_enrollment':
        return { otpauthUri: `otpauth://totp/Latchkey?secret=${SECRET}`, qrSvg: QR, secretBase32: SECRET };
      case 'guard_confirm_enrollment':
        backend.guard = { enrolled: true, lockedUntil: null, recoveryCodesLeft: 10, setupSkipped: false };
        return { recoveryCodes: [...RECOVERY] };
      case 'guard_cancel_enrollment':
        return true;
      case 'guard_skip_setup':
        backend.guard = { ...backend.guard, setupSkipped: true };
        return { ...backend.guard };
      case 'reveal_secret':
      case 'copy_secret':
        throw { kind: 'guard_missing', message: '2FA is not set up.' };
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
  await mountApp(root, { now: () => NOW }).ready;
}

const $ = <T extends Element = HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`no element ${sel}`);
  return el;
};
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};
const click = (sel: string) => $(sel).click();
function type(sel: string, value: string): void {
  const el = $<HTMLInputElement | HTMLSelectElement>(sel);
  el.value = value;
  el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
}
function press(key: string, target: Element = document.activeElement ?? document.body): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
}
const calls = (cmd: string) => backend.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
const step = () => document.querySelector('#wizard')?.getAttribute('data-step');

async function addBybit(label: string): Promise<void> {
  click('#add-key');
  click('input[name=exchange][value=bybit]');
  click('#wizard-next');
  type('#api-key', BYBIT_KEY);
  type('#api-secret', BYBIT_SECRET);
  click('#wizard-next');
  type('#label', label);
  click('#wizard-next');
  await flush();
  click('#wizard-save');
  await flush();
}

beforeEach(async () => {
  window.dispatchEvent(new Event('pagehide'));
  backend = { keys: [], guard: { enrolled: false, lockedUntil: null, recoveryCodesLeft: 0, setupSkipped: false }, calls: [] };
  install();
  await start();
});

afterEach(() => clearMocks());

describe('first use: 2FA is the wizard’s last step', () => {
  it('after the first key is saved, enrolment runs inside the wizard; it has no Cancel and ends with 2FA on', async () => {
    click('#add-key');
    // Announced from the start: five steps, the last one 2FA.
    expect([...document.querySelectorAll('#wizard .steps li')].map((li) => li.textContent)).toEqual([
      '1Exchange',
      '2Credentials',
      '3Details',
      '4Confirm',
      '52FA',
    ]);
    press('Escape');
    await addBybit('bybit-first');
    expect(calls('add_key')).toHaveLength(1);
    expect(step()).toBe('2fa');
    // The key is saved and listed behind the wizard.
    expect(document.querySelector('[data-testid=key-card][data-label=bybit-first]')).toBeTruthy();
    // The enrolment flow is in the wizard, not in a dialog of its own.
    expect(document.querySelector('#enroll-dialog')).toBeNull();
    expect($('#wizard #totp-secret').dataset.secret).toBe(SECRET);
    expect($('#wizard #enroll-qr svg')).toBeTruthy();
    expect($('#wizard .steps li.current').textContent).toBe('52FA');
    expect(document.querySelector('#wizard #enroll-cancel')).toBeNull();
    expect(document.querySelector('#wizard-cancel')).toBeNull();
    // No silent way out: Escape moves to the explicit choice instead of closing.
    press('Escape', $('#enroll-code'));
    await flush();
    expect(step()).toBe('2fa');
    expect(document.activeElement?.id).toBe('skip-2fa-accept');
    expect(calls('guard_cancel_enrollment')).toEqual([]);

    type('#enroll-code', '492039');
    click('#enroll-confirm');
    await flush();
    expect(calls('guard_confirm_enrollment')).toEqual([{ code: '492039' }]);
    expect([...document.querySelectorAll('#wizard .recovery-code')].map((c) => c.textContent)).toEqual(RECOVERY);
    expect(document.querySelector('#skip-2fa')).toBeNull();
    click('#recovery-done');
    await flush();
    expect(document.querySelector('#wizard')).toBeNull();
    expect(calls('guard_cancel_enrollment')).toEqual([]);
    expect($('#open-2fa').dataset.enrolled).toBe('true');
    expect($('#enroll-banner').hidden).toBe(true);
    expect(document.activeElement).toBe($('[data-testid=key-card][data-label=bybit-first]'));

    // 2FA on: the next key's wizard has four steps and closes on save.
    await addBybit('bybit-second');
    expect(document.querySelector('#wizard')).toBeNull();
    expect(calls('guard_begin_enrollment')).toHaveLength(1);
  });

  it('skipping needs the ticked acceptance, is recorded in Rust with its words, and is not asked after the next key', async () => {
    await addBybit('bybit-first');
    expect(step()).toBe('2fa');
    const skip = $<HTMLButtonElement>('#skip-2fa');
    expect(skip.disabled).toBe(true);
    click('#skip-2fa');
    await flush();
    expect(calls('guard_skip_setup')).toEqual([]);
    const accept = $<HTMLInputElement>('#skip-2fa-accept');
    expect(accept.closest('label')?.textContent).toContain(SKIP_2FA_ACCEPTANCE);
    accept.checked = true;
    accept.dispatchEvent(new Event('change'));
    expect(skip.disabled).toBe(false);
    click('#skip-2fa');
    await flush();
    expect(calls('guard_skip_setup')).toEqual([{ accepted: SKIP_2FA_ACCEPTANCE }]);
    expect(document.querySelector('#wizard')).toBeNull();
    // The begun setup is dropped in Rust.
    expect(calls('guard_cancel_enrollment')).toHaveLength(1);
    // The header keeps reminding.
    expect($('#enroll-banner').hidden).toBe(false);

    await addBybit('bybit-second');
    expect(document.querySelector('#wizard')).toBeNull();
    expect(calls('guard_begin_enrollment')).toHaveLength(1);
  });

  it('the acceptance names what is left unguarded without 2FA, and what stays locked', () => {
    expect(SKIP_2FA_ACCEPTANCE).toMatch(/^I accept that anyone at this computer can /);
    expect(SKIP_2FA_ACCEPTANCE).toContain('revoke and wipe my keys');
    expect(SKIP_2FA_ACCEPTANCE).toContain('after typing REVOKE');
    expect(SKIP_2FA_ACCEPTANCE).toContain('delete keychain items left over');
    // Rust asks no code for these without 2FA either (edit.rs, mint.rs, fix.rs: needs_code = enrolled).
    expect(SKIP_2FA_ACCEPTANCE).toContain('move a key to another environment or base URL');
    expect(SKIP_2FA_ACCEPTANCE).toContain('mint bot keys and fix keys through a master key');
    expect(SKIP_2FA_ACCEPTANCE).toContain('without a code');
    // Rust refuses these without 2FA (guard.verify → NotEnrolled): locked, not unguarded.
    for (const locked of LOCKED_WITHOUT_2FA) expect(SKIP_2FA_ACCEPTANCE).toContain(locked);
    expect(SKIP_2FA_ACCEPTANCE).toMatch(/revealing or copying a secret, .* stay locked/);
  });

  it('the window closing on the 2FA step drops the begun setup', async () => {
    await addBybit('bybit-first');
    window.dispatchEvent(new Event('pagehide'));
    await flush();
    expect(calls('guard_cancel_enrollment')).toHaveLength(1);
    expect(document.querySelector('#wizard')).toBeNull();
  });
});

describe('reveal and copy without 2FA', () => {
  beforeEach(async () => {
    backend.keys = [
      view(
        {
          exchange: 'bybit',
          label: 'bybit-main',
          environment: { kind: 'live' },
          apiKey: '',
          apiSecret: '',
          passphrase: null,
          exchangeCode: null,
          rotationDays: 90,
          verify: true,
          botsAllowed: true,
        },
        'k1',
      ),
    ];
    await start();
  });

  it('Reveal says "2FA is not set up" before asking for any code, and opens the setup', async () => {
    click('[data-testid=key-card][data-id=k1] .reveal-key');
    await flush();
    expect(document.querySelector('#reveal-dialog')).toBeNull();
    expect(document.querySelector('#guard-code')).toBeNull();
    expect($('#secret-needs-2fa-title').textContent).toBe('2FA is not set up');
    // It points to screens that exist: this dialog's button and the header's.
    expect($('#secret-needs-2fa').textContent).toContain('“Set up 2FA” button at the top of the window');
    expect($('#enroll-banner-start').textContent).toBe('Set up 2FA');
    expect($('#open-2fa .btn-text').textContent).toBe('Set up 2FA');
    click('#secret-enroll');
    await flush();
    expect(document.querySelector('#secret-needs-2fa')).toBeNull();
    expect($('#enroll-dialog')).toBeTruthy();
    expect(calls('reveal_secret')).toEqual([]);
  });

  it('Copy says so too; Close goes back to the card', async () => {
    const toggle = $<HTMLElement>('[data-testid=key-card][data-id=k1] .copy-menu-toggle');
    toggle.click();
    click('[data-testid=key-card][data-id=k1] .copy-secret[data-part=apiSecret]');
    await flush();
    expect($('#secret-needs-2fa').textContent).toContain('Copying the API secret');
    expect(document.querySelector('#copy-dialog')).toBeNull();
    click('#secret-needs-2fa-close');
    await flush();
    expect(document.querySelector('#secret-needs-2fa')).toBeNull();
    expect(calls('copy_secret')).toEqual([]);
    // The next click works: the dialog lock was released.
    click('[data-testid=key-card][data-id=k1] .reveal-key');
    await flush();
    expect($('#secret-needs-2fa')).toBeTruthy();
  });
});
