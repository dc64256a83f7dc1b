// 2FA, emergency revoke, quarantined keys and the audit screen, with IPC mocked. Progress arrives on
// the real Tauri `Channel` the UI passes to `emergency_revoke`: the mock sends messages on it the way
// Rust does (`{index, message}` through the callback registered for the channel).
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import type { Channel } from '@tauri-apps/api/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AuditLog, GuardStatus, IpcError, KeyView, RevokePlanItem, RevokeProgress, RevokeReport } from './api/types';
import { normalizeCode } from './guard/code-field';
import { mountApp, type App } from './app';
import { keyView, reportItem } from './test-support/fixtures';

const NOW = new Date('2025-03-10T12:00:00Z');
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const QR =
  '<?xml version="1.0" standalone="yes"?><svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="200" height="200" viewBox="0 0 29 29" shape-rendering="crispEdges"><script>alert(1)</script><rect x="0" y="0" width="29" height="29" fill="#fff" onload="alert(2)"/><path fill="#000" d="M4 4h7v1H4z"/></svg>';
const RECOVERY = Array.from({ length: 10 }, (_, i) => `r${i}aa-bbbb-cccc`);

interface Deferred {
  promise: Promise<void>;
  release: () => void;
}
const deferred = (): Deferred => {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
};

interface Backend {
  keys: KeyView[];
  guard: GuardStatus;
  calls: { cmd: string; args: Record<string, unknown> }[];
  plan: RevokePlanItem[];
  report: RevokeReport;
  /** emergency_revoke / retry_revoke wait for this after sending `progress`. */
  gate: Deferred | null;
  progress: RevokeProgress[];
  channel: Channel<RevokeProgress> | null;
  /** The next guarded command rejects with it. */
  guardError: IpcError | null;
  audit: AuditLog;
  /** The next guard_begin_enrollment rejects with it. */
  beginError: IpcError | null;
}

let backend: Backend;
let app: App;

function key(id: string, label: string, over: Partial<KeyView> = {}): KeyView {
  return keyView({
    id,
    label,
    exchange: 'okx',
    environment: { kind: 'live' },
    keyHint: `${id}…hint`,
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

const PLAN: RevokePlanItem[] = [
  {
    id: 'k1',
    label: 'okx-bot',
    exchange: 'okx',
    keyHint: 'k1…hint',
    action: 'remote',
    detail: 'OKX revokes API keys on request.',
  },
  { id: 'k2', label: 'bybit-main', exchange: 'bybit', keyHint: 'k2…hint', action: 'remote', detail: '' },
  {
    id: 'k3',
    label: 'binance-x',
    exchange: 'binance',
    keyHint: 'k3…hint',
    action: 'manual',
    detail: 'Binance needs the website for this key.',
  },
];

const REPORT: RevokeReport = {
  jobId: 'job-7',
  kind: 'revoke',
  startedAt: '2025-03-10T12:00:00Z',
  finishedAt: '2025-03-10T12:00:02Z',
  items: [
    reportItem({
      id: 'k1',
      label: 'okx-bot',
      keyHint: 'k1…hint',
      outcome: 'revoked',
      message: 'OKX confirmed.',
      provedAt: '2025-03-10T12:00:01Z',
    }),
    reportItem({
      id: 'k3',
      label: 'binance-x',
      exchange: 'binance',
      keyHint: 'k3…hint',
      outcome: 'manual',
      message: 'Wiped here.',
      manualUrl: 'https://www.binance.com/en/my/settings/api-management',
      steps: ['Log in', 'Delete the key'],
    }),
  ],
  checklist: [
    {
      exchange: 'binance',
      url: 'https://www.binance.com/en/my/settings/api-management',
      steps: ['Open API management', 'Delete the key ending k3…hint'],
    },
  ],
  servers: [],
};

function guarded(): void {
  if (!backend.guard.enrolled) throw { kind: 'guard_missing', message: 'Set up 2FA first.' };
  if (backend.guardError) {
    const e = backend.guardError;
    backend.guardError = null;
    throw e;
  }
}

/** The revoke commands, as Rust decides (Guard::authorize_revoke): a code with 2FA, the typed
 * REVOKE only without it. */
function revokeAuthorized(code: unknown): void {
  if (backend.guard.enrolled && code === 'REVOKE')
    throw { kind: 'guard', code: 'phrase_refused', message: '2FA is set up, so typing REVOKE is not enough.' };
  if (!backend.guard.enrolled) {
    if (code !== 'REVOKE')
      throw { kind: 'guard', code: 'phrase_required', message: '2FA is not set up, so revoking asks you to type REVOKE.' };
    return;
  }
  guarded();
}

async function streamProgress(ch: Channel<RevokeProgress>): Promise<void> {
  backend.channel = ch;
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } })
    .__TAURI_INTERNALS__;
  backend.progress.forEach((message, index) => internals.runCallback(ch.id, { index, message }));
  if (backend.gate) await backend.gate.promise;
}

function install(): void {
  mockIPC(async (cmd, raw) => {
    const args = (raw ?? {}) as Record<string, unknown>;
    const { onProgress, ...plain } = args;
    backend.calls.push({ cmd, args: structuredClone(plain) });
    switch (cmd) {
      case 'list_keys':
        return structuredClone(backend.keys);
      case 'keychain_status':
        return { ok: true, service: 'latchkey', message: null };
      case 'guard_status':
        return { ...backend.guard };
      case 'guard_begin_enrollment':
        if (backend.guard.enrolled) guarded();
        if (backend.beginError) {
          const e = backend.beginError;
          backend.beginError = null;
          throw e;
        }
        return { otpauthUri: `otpauth://totp/Latchkey?secret=${SECRET}&issuer=Latchkey`, qrSvg: QR, secretBase32: SECRET };
      case 'guard_confirm_enrollment':
        if (backend.gate) await backend.gate.promise;
        if (backend.guardError) {
          const e = backend.guardError;
          backend.guardError = null;
          throw e;
        }
        backend.guard = { enrolled: true, lockedUntil: null, recoveryCodesLeft: 10, setupSkipped: false };
        return { recoveryCodes: [...RECOVERY] };
      case 'guard_cancel_enrollment':
        return true;
      case 'guard_disable':
        guarded();
        backend.guard = { enrolled: false, lockedUntil: null, recoveryCodesLeft: 0, setupSkipped: false };
        return null;
      case 'revoke_plan':
        return structuredClone(backend.plan);
      case 'emergency_revoke':
      case 'retry_revoke':
        revokeAuthorized(args.code);
        await streamProgress(onProgress as Channel<RevokeProgress>);
        return structuredClone(backend.report);
      case 'wipe_locally':
      case 'confirm_deleted':
        revokeAuthorized(args.code);
        return structuredClone(backend.report);
      case 'save_revoke_report':
        return `/home/me/Latchkey/revoke-${String(args.jobId)}.txt`;
      case 'delete_key':
        guarded();
        backend.keys = backend.keys.filter((k) => k.id !== args.id);
        return null;
      case 'audit_log':
        return structuredClone(backend.audit);
      case 'copy_recovery_codes':
        return { clearsInSecs: 30 };
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
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};
const click = (sel: string) => $(sel).click();
function type(sel: string, value: string): void {
  const el = $<HTMLInputElement>(sel);
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}
function press(key: string, target: Element = document.activeElement ?? document.body): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
}
const calls = (cmd: string) => backend.calls.filter((c) => c.cmd === cmd).map((c) => c.args);

beforeEach(async () => {
  backend = {
    keys: [key('k1', 'okx-bot'), key('k2', 'bybit-main', { exchange: 'bybit' }), key('k3', 'binance-x', { exchange: 'binance' })],
    guard: { enrolled: true, lockedUntil: null, recoveryCodesLeft: 7, setupSkipped: false },
    calls: [],
    plan: structuredClone(PLAN),
    report: structuredClone(REPORT),
    gate: null,
    progress: [],
    channel: null,
    guardError: null,
    audit: { entries: [], chain: { ok: true, checked: 0, firstBroken: null, anchor: 'matches', message: '' } },
    beginError: null,
  };
  install();
  await start();
});

afterEach(() => clearMocks());

describe('code prompt', () => {
  it('accepts 6 digits or a recovery code, nothing else', () => {
    expect(normalizeCode(' 123 456 ')).toBe('123456');
    expect(normalizeCode('k3f9-2mxq-8d7a')).toBe('k3f9-2mxq-8d7a');
    expect(normalizeCode('k3f9-2mxq-8d7a', true)).toBeNull();
    expect(normalizeCode('12345')).toBeNull();
    expect(normalizeCode('12<b>34')).toBeNull();
  });

  it('shows guard errors under the field and keeps the dialog; guard_missing offers enrolment', async () => {
    click('[data-testid=key-card][data-id=k1] .delete-key');
    const input = $<HTMLInputElement>('#guard-code');
    expect(input.getAttribute('inputmode')).toBe('numeric');
    expect(input.getAttribute('autocomplete')).toBe('one-time-code');
    type('#guard-code', 'abcd-efgh-ijkl');
    expect(input.getAttribute('inputmode')).toBe('text');
    backend.guardError = { kind: 'guard', message: 'Too many wrong codes: try again in 2 min' };
    press('Enter', input);
    await flush();
    expect($('[data-error-for=code]').textContent).toBe('Too many wrong codes: try again in 2 min');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(calls('delete_key')).toEqual([{ id: 'k1', code: 'abcd-efgh-ijkl' }]);
    expect(document.querySelector('#delete-dialog')).toBeTruthy();
    expect(document.activeElement).toBe(input);

    backend.guard.enrolled = false;
    type('#guard-code', '111111');
    click('#confirm-delete');
    await flush();
    expect($('[data-error-for=code]').textContent).toContain('Set up 2FA first.');
    click('[data-error-for=code] .guard-enroll');
    await flush();
    expect(document.querySelector('#delete-dialog')).toBeNull();
    expect($('#enroll-dialog')).toBeTruthy();
  });
});

describe('2FA enrolment', () => {
  it('offers enrolment on first run; QR, secret, confirm, then the recovery codes once', async () => {
    backend.guard = { enrolled: false, lockedUntil: null, recoveryCodesLeft: 0, setupSkipped: false };
    await start();
    expect($('#enroll-banner').hidden).toBe(false);
    click('#enroll-banner-start');
    await flush();
    expect(calls('guard_begin_enrollment')).toEqual([{ code: null }]);
    const qr = $('#enroll-qr');
    const svg = qr.querySelector('svg');
    expect(svg).toBeTruthy();
    expect(svg?.getAttribute('viewBox')).toBe('0 0 29 29');
    expect(qr.querySelector('path')?.getAttribute('d')).toBe('M4 4h7v1H4z');
    expect(qr.querySelector('script')).toBeNull();
    expect(qr.querySelector('[onload]')).toBeNull();
    expect($('#totp-secret').dataset.secret).toBe(SECRET);
    expect($('#totp-secret').textContent).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(document.activeElement?.id).toBe('enroll-code');

    type('#enroll-code', 'abcd-efgh-ijkl');
    click('#enroll-confirm');
    await flush();
    expect($('#enroll-dialog [data-error-for=code]').textContent).toContain('6 digits');
    expect(calls('guard_confirm_enrollment')).toEqual([]);
    backend.guardError = { kind: 'guard', message: 'That code is not right: check the clock.' };
    type('#enroll-code', '000000');
    press('Enter', $('#enroll-code'));
    await flush();
    expect($('#enroll-dialog [data-error-for=code]').textContent).toBe('That code is not right: check the clock.');
    type('#enroll-code', '492039');
    // While Rust checks the code and hashes the recovery codes, the dialog says what it is doing.
    backend.gate = deferred();
    click('#enroll-confirm');
    await flush();
    expect($('#enroll-progress').textContent).toBe('Checking the code and making your recovery codes…');
    expect($('#enroll-confirm').hasAttribute('disabled')).toBe(true);
    backend.gate.release();
    backend.gate = null;
    await flush();
    expect(document.querySelector('#enroll-progress')).toBeNull();
    expect(calls('guard_confirm_enrollment')).toEqual([{ code: '000000' }, { code: '492039' }]);
    expect($$('#recovery-codes .recovery-code').map((c) => c.textContent)).toEqual(RECOVERY);
    // The codes must be read: Escape does not throw them away.
    press('Escape');
    expect($('#recovery-codes')).toBeTruthy();
    click('#recovery-done');
    await flush();
    expect(document.querySelector('#enroll-dialog')).toBeNull();
    expect(document.body.textContent).not.toContain(RECOVERY[0]);
    expect($('#enroll-banner').hidden).toBe(true);
    expect(calls('guard_confirm_enrollment')).toHaveLength(2);
    expect(backend.calls.filter((c) => c.cmd.startsWith('guard_') && c.cmd !== 'guard_status').map((c) => c.cmd)).toEqual([
      'guard_begin_enrollment',
      'guard_confirm_enrollment',
      'guard_confirm_enrollment',
    ]);
  });

  it('copies the recovery codes through Rust (cleared later there), never with the page clipboard', async () => {
    backend.guard = { enrolled: false, lockedUntil: null, recoveryCodesLeft: 0, setupSkipped: false };
    const pageClipboard: string[] = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: async (t: string) => void pageClipboard.push(t) },
    });
    await start();
    click('#enroll-banner-start');
    await flush();
    type('#enroll-code', '492039');
    click('#enroll-confirm');
    await flush();
    click('#copy-recovery');
    await flush();
    expect(calls('copy_recovery_codes')).toEqual([{ codes: RECOVERY }]);
    expect($('#copy-recovery').textContent).toBe('Copied — clipboard clears in 30 s');
    expect(pageClipboard).toEqual([]);
    click('#recovery-done');
  });

  it('the reminder sits in the header while keys exist without 2FA, and cannot be dismissed', async () => {
    backend.guard = { enrolled: false, lockedUntil: null, recoveryCodesLeft: 0, setupSkipped: true };
    await start();
    const reminder = $('#enroll-banner');
    expect(reminder.hidden).toBe(false);
    expect(reminder.closest('header.app-header')).toBeTruthy();
    expect(reminder.textContent).toContain('2FA is not set up');
    expect(document.querySelector('#enroll-banner-dismiss')).toBeNull();
    expect(reminder.querySelectorAll('button').length).toBe(1);
    // Skipping 2FA in the wizard does not hide it; only 2FA set up, or no keys, does.
    backend.keys = backend.keys.map((k) => ({ ...k, status: 'revoked' }));
    await app.refresh();
    expect($('#enroll-banner').hidden).toBe(true);
    backend.keys = [key('k9', 'new-one')];
    await app.refresh();
    expect($('#enroll-banner').hidden).toBe(false);
    click('#enroll-banner-start');
    await flush();
    expect($('#enroll-dialog')).toBeTruthy();
  });

  it('status view: codes left, locked out; re-enrol and disable need a code', async () => {
    backend.guard = { enrolled: true, lockedUntil: '2025-03-10T12:02:00Z', recoveryCodesLeft: 7, setupSkipped: false };
    expect($('#enroll-banner').hidden).toBe(true);
    click('#open-2fa');
    await flush();
    expect($('#guard-status').dataset.enrolled).toBe('true');
    expect($('#guard-status').dataset.locked).toBe('true');
    expect($('#recovery-left').textContent).toBe('Recovery codes left: 7');
    // Every action the code guards is named, reveal, copy and rotate included.
    const guarded = [...document.querySelectorAll('#guarded-actions li')].map((li) => li.textContent ?? '').join('\n');
    for (const action of [
      /emergency revoke/i,
      /retrying a revoke/i,
      /wiping a key locally/i,
      /confirming a key deleted/i,
      /revealing/i,
      /copying a secret/i,
      /rotating a key/i,
      /deleting a key\b/i,
      /bots/i,
      /left in the keychain/i,
      /2FA off/i,
      /minting a bot key/i,
      /fixing a key in place/i,
      /automatic rotation on/i,
      /exporting a key/i,
      /locking a whole sub-account/i,
      /replaced audit log/i,
    ]) {
      expect(guarded).toMatch(action);
    }
    expect($('#guard-locked').textContent).toContain('try again in 2 min');

    click('#reenroll-2fa');
    await flush();
    expect($('#enroll-dialog')).toBeTruthy();
    expect(calls('guard_begin_enrollment')).toEqual([]);
    type('#guard-code', '123456');
    press('Enter', $('#guard-code'));
    await flush();
    expect(calls('guard_begin_enrollment')).toEqual([{ code: '123456' }]);
    expect($('#totp-secret').dataset.secret).toBe(SECRET);
    press('Escape');
    await flush();
    expect(document.querySelector('#enroll-dialog')).toBeNull();
    expect(calls('guard_cancel_enrollment')).toHaveLength(1);

    click('#open-2fa');
    await flush();
    click('#disable-2fa');
    type('#guard-code', '654321');
    click('#disable-confirm');
    await flush();
    expect(calls('guard_disable')).toEqual([{ code: '654321' }]);
    expect(document.querySelector('#disable-dialog')).toBeNull();
    expect($('#open-2fa').dataset.enrolled).toBe('false');
  });
});

describe('2FA enrolment: a begun setup never lingers', () => {
  beforeEach(async () => {
    // Dialogs earlier tests left open close with the page, as they would in the app.
    window.dispatchEvent(new Event('pagehide'));
    await flush();
    backend.calls = [];
    backend.guard = { enrolled: false, lockedUntil: null, recoveryCodesLeft: 0, setupSkipped: false };
  });

  async function openScan(): Promise<void> {
    await start();
    click('#enroll-banner-start');
    await flush();
    expect($('#totp-secret')).toBeTruthy();
  }

  it('Cancel drops the begun secret in Rust', async () => {
    await openScan();
    click('#enroll-cancel');
    await flush();
    expect(document.querySelector('#enroll-dialog')).toBeNull();
    expect(calls('guard_cancel_enrollment')).toHaveLength(1);
  });

  it('Escape drops it too', async () => {
    await openScan();
    press('Escape', $('#enroll-code'));
    await flush();
    expect(document.querySelector('#enroll-dialog')).toBeNull();
    expect(calls('guard_cancel_enrollment')).toHaveLength(1);
  });

  it('the window closing drops it', async () => {
    await openScan();
    window.dispatchEvent(new Event('pagehide'));
    await flush();
    expect(calls('guard_cancel_enrollment')).toHaveLength(1);
    expect(document.querySelector('#enroll-dialog')).toBeNull();
  });

  it('a confirmed setup is not cancelled, and a closed dialog stops listening', async () => {
    await openScan();
    type('#enroll-code', '492039');
    click('#enroll-confirm');
    await flush();
    click('#recovery-done');
    await flush();
    window.dispatchEvent(new Event('pagehide'));
    await flush();
    expect(calls('guard_cancel_enrollment')).toEqual([]);
  });

  it('a setup Rust dropped (3 wrong codes) offers to start again', async () => {
    await openScan();
    backend.guardError = {
      kind: 'guard',
      code: 'enrollment_tries_exhausted',
      message: '3 codes in a row did not match the new secret, so this 2FA setup was cancelled.',
    };
    type('#enroll-code', '000000');
    click('#enroll-confirm');
    await flush();
    expect($('#enroll-dialog .dialog-error').textContent).toContain('setup was cancelled');
    expect(document.querySelector('#enroll-confirm')).toBeNull();
    click('#enroll-restart');
    await flush();
    expect(calls('guard_begin_enrollment')).toHaveLength(2);
    expect($('#totp-secret')).toBeTruthy();
  });

  it('a secret left in the keychain needs its code, or the explicit choice to destroy it', async () => {
    backend.beginError = {
      kind: 'guard',
      code: 'old_seed_exists',
      message: 'A 2FA secret from an earlier setup is still in the keychain.',
    };
    await start();
    click('#enroll-banner-start');
    await flush();
    expect($('#enroll-dialog').dataset.phase).toBe('old-seed');
    expect($('#old-seed-message').textContent).toContain('still in the keychain');
    // Destroying needs the box ticked first.
    expect($<HTMLButtonElement>('#old-seed-destroy').disabled).toBe(true);
    click('#old-seed-destroy');
    await flush();
    expect(calls('guard_begin_enrollment')).toEqual([{ code: null }]);
    // A code from the old entry continues.
    type('#old-seed-code', '123456');
    click('#old-seed-continue');
    await flush();
    expect(calls('guard_begin_enrollment')).toEqual([{ code: null }, { code: '123456' }]);
    expect($('#totp-secret')).toBeTruthy();
    click('#enroll-cancel');
    await flush();

    backend.beginError = {
      kind: 'guard',
      code: 'old_seed_exists',
      message: 'A 2FA secret from an earlier setup is still in the keychain.',
    };
    click('#enroll-banner-start');
    await flush();
    const box = $<HTMLInputElement>('#old-seed-destroy-confirm');
    box.checked = true;
    box.dispatchEvent(new Event('change'));
    click('#old-seed-destroy');
    await flush();
    expect(calls('guard_begin_enrollment').slice(-1)).toEqual([{ code: null, destroyOldSeed: true }]);
    expect($('#totp-secret')).toBeTruthy();
  });
});

describe("audit screen: the log's end", () => {
  it('names removed newest entries and a recomputed chain', async () => {
    backend.audit.chain = {
      ok: false,
      checked: 4,
      firstBroken: null,
      anchor: 'truncated',
      message: 'entries were removed from its end',
    };
    click('#open-audit');
    await flush();
    expect($('#audit-chain').dataset.anchor).toBe('truncated');
    expect($('#audit-chain').textContent).toContain('cut short');
    expect($('#audit-chain').textContent).toContain('entries were removed from its end');
    click('#close-audit');
    await flush();
    backend.audit.chain = { ok: false, checked: 4, firstBroken: null, anchor: 'rewritten', message: 'it was rewritten' };
    click('#open-audit');
    await flush();
    expect($('#audit-chain').textContent).toContain('hashes were recomputed');
    click('#close-audit');
    await flush();
    backend.audit.chain = {
      ok: true,
      checked: 4,
      firstBroken: null,
      anchor: 'unavailable',
      message: 'could not be checked against the keychain anchor',
    };
    click('#open-audit');
    await flush();
    expect($('#audit-chain').textContent).toContain('could not be checked');
  });
});

describe('emergency revoke', () => {
  it('plans, sends only the selected ids, shows live progress, then the report and checklist', async () => {
    backend.gate = deferred();
    backend.progress = [
      { id: 'k1', stage: 'remote_started', message: '' },
      { id: 'k3', stage: 'manual', message: 'Binance: finish on the website.' },
      { id: 'k1', stage: 'remote_ok', message: 'OKX confirmed the revoke.' },
    ];
    const button = $('#emergency-revoke');
    expect(button.classList.contains('btn-danger')).toBe(true);
    button.click();
    await flush();
    expect(calls('revoke_plan')).toEqual([{ ids: null }]);
    const items = $$('.plan-item');
    expect(items.map((i) => [i.dataset.id, i.dataset.action])).toEqual([
      ['k1', 'remote'],
      ['k2', 'remote'],
      ['k3', 'manual'],
    ]);
    expect(items[0].textContent).toContain('Revoke at OKX via API');
    expect(items[0].textContent).toContain('OKX revokes API keys on request.');
    expect(items[2].textContent).toContain('No API revoke — stays live and blocked');
    expect($$('input.plan-select').every((b) => (b as HTMLInputElement).checked)).toBe(true);
    expect($('#revoke-confirm').textContent).toBe('Revoke 3 keys');
    expect(document.activeElement?.id).toBe('guard-code');

    const bybit = $<HTMLInputElement>('.plan-item[data-id=k2] input.plan-select');
    bybit.click();
    expect(bybit.checked).toBe(false);
    expect($('#revoke-confirm').textContent).toBe('Revoke 2 keys');

    // A wrong code: nothing ran, the choice is kept.
    backend.guardError = { kind: 'guard', message: 'Wrong code.' };
    type('#guard-code', '111111');
    press('Enter', $('#guard-code'));
    await flush();
    expect($('#revoke-dialog [data-error-for=code]').textContent).toBe('Wrong code.');
    expect($<HTMLInputElement>('.plan-item[data-id=k2] input.plan-select').checked).toBe(false);

    type('#guard-code', '222222');
    click('#revoke-confirm');
    await flush();
    expect(calls('emergency_revoke')).toEqual([
      { code: '111111', ids: ['k1', 'k3'] },
      { code: '222222', ids: ['k1', 'k3'] },
    ]);
    expect($('#revoke-dialog').dataset.phase).toBe('running');
    const stage = (id: string) => $(`.progress-item[data-id=${id}]`);
    expect($$('.progress-item').map((p) => p.dataset.id)).toEqual(['k1', 'k3']);
    expect(stage('k1').dataset.stage).toBe('remote_ok');
    expect(stage('k1').textContent).toContain('OKX confirmed the revoke.');
    expect(stage('k3').dataset.stage).toBe('manual');
    expect(stage('k3').textContent).toContain('Binance: finish on the website.');
    // Running: Escape does not close.
    press('Escape', $('#revoke-dialog'));
    expect(document.querySelector('#revoke-dialog')).toBeTruthy();

    // A late message arrives on the channel before Rust answers.
    const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, d: unknown) => void } })
      .__TAURI_INTERNALS__;
    internals.runCallback(backend.channel!.id, { index: 3, message: { id: 'k3', stage: 'wiped', message: 'Secret wiped.' } });
    expect(stage('k3').dataset.stage).toBe('wiped');

    backend.gate.release();
    await flush();
    const report = $('#revoke-report');
    expect($$('.report-item').map((r) => [r.dataset.id, r.dataset.outcome])).toEqual([
      ['k1', 'revoked'],
      ['k3', 'manual'],
    ]);
    expect(report.textContent).toContain('1 key proved revoked · 1 still live: delete on the website');
    expect($('.report-item[data-id=k1] .report-proof').textContent).toMatch(/^OKX: proved revoked at \d\d:\d\d:\d\d$/);
    const check = $$('#revoke-checklist .checklist-item');
    expect(check).toHaveLength(1);
    expect(check[0].dataset.exchange).toBe('binance');
    expect(check[0].textContent).toContain('https://www.binance.com/en/my/settings/api-management');
    expect(check[0].querySelector('a')).toBeNull();
    expect(report.querySelector('a[href]')).toBeNull();
    expect($('#revoke-reminder').textContent).toBe('Change your exchange account password and review active sessions.');

    click('#save-report');
    await flush();
    expect(calls('save_revoke_report')).toEqual([{ jobId: 'job-7' }]);
    expect($('#saved-report-path').textContent).toBe('Saved to /home/me/Latchkey/revoke-job-7.txt');

    const before = calls('list_keys').length;
    click('#revoke-done');
    await flush();
    expect(document.querySelector('#revoke-dialog')).toBeNull();
    expect(calls('list_keys').length).toBe(before + 1);
    expect(document.activeElement?.id).toBe('emergency-revoke');
  });

  it('without 2FA still revokes, after the user types REVOKE (no code field), and offers the setup', async () => {
    backend.guard = { enrolled: false, lockedUntil: null, recoveryCodesLeft: 0, setupSkipped: false };
    await start();
    click('#emergency-revoke');
    await flush();
    expect(document.querySelector('#revoke-dialog #guard-code')).toBeNull();
    expect($('#revoke-needs-2fa').textContent).toContain('2FA is not set up');
    expect($('#revoke-needs-2fa').textContent).toContain('type REVOKE');
    expect($<HTMLButtonElement>('#revoke-confirm').disabled).toBe(false);
    expect(document.activeElement?.id).toBe('guard-phrase');
    // Anything but REVOKE is caught before Rust is asked.
    type('#guard-phrase', 'revoke');
    click('#revoke-confirm');
    await flush();
    expect($('#revoke-dialog [data-error-for=code]').textContent).toContain('Type REVOKE exactly');
    expect(calls('emergency_revoke')).toEqual([]);
    type('#guard-phrase', 'REVOKE');
    press('Enter', $('#guard-phrase'));
    await flush();
    expect(calls('emergency_revoke')).toEqual([{ code: 'REVOKE', ids: ['k1', 'k2', 'k3'] }]);
    expect($('#revoke-dialog').dataset.phase).toBe('report');
    click('#revoke-done');
    await flush();

    // The setup is one click away from the plan.
    click('#emergency-revoke');
    await flush();
    click('#revoke-enroll');
    await flush();
    expect(document.querySelector('#revoke-dialog')).toBeNull();
    expect($('#enroll-dialog')).toBeTruthy();
  });

  it('a quarantined key without 2FA: Retry and Wipe ask for the typed REVOKE too', async () => {
    backend.guard = { enrolled: false, lockedUntil: null, recoveryCodesLeft: 0, setupSkipped: false };
    backend.keys = [key('k1', 'okx-bot', { status: 'quarantined' })];
    await start();
    click('[data-testid=key-card][data-id=k1] .retry-revoke');
    await flush();
    expect(document.querySelector('#retry-dialog #guard-code')).toBeNull();
    type('#guard-phrase', 'REVOKE');
    click('#retry-confirm');
    await flush();
    expect(calls('retry_revoke')).toEqual([{ code: 'REVOKE', id: 'k1' }]);
  });

  it('quarantined keys: red badge, Retry revoke and Wipe locally anyway ask for a code; revoked keys collapsed', async () => {
    backend.keys = [key('k1', 'okx-bot', { status: 'quarantined' }), key('k2', 'old', { status: 'revoked' }), key('k3', 'fine')];
    await app.refresh();
    const q = $('[data-testid=key-card][data-id=k1]');
    expect(q.querySelector('.key-status')?.textContent).toBe('Quarantined');
    expect(q.querySelector('.badge-quarantined')).toBeTruthy();
    const revoked = $<HTMLDetailsElement>('#revoked-keys');
    expect(revoked.open).toBe(false);
    expect(revoked.querySelector('[data-id=k2]')).toBeTruthy();
    expect($('#key-list').querySelector('[data-id=k2]')).toBeNull();
    expect($('.section-title .count').textContent).toBe('(2)');

    backend.progress = [{ id: 'k1', stage: 'retrying', message: 'OKX busy' }];
    backend.report = { ...REPORT, items: [{ ...REPORT.items[0] }], checklist: [] };
    click('[data-id=k1] .retry-revoke');
    type('#guard-code', '333333');
    click('#retry-confirm');
    await flush();
    expect(calls('retry_revoke')).toEqual([{ code: '333333', id: 'k1' }]);
    expect($$('.report-item').map((r) => r.dataset.outcome)).toEqual(['revoked']);
    click('#revoke-done');
    await flush();

    click('[data-id=k1] .wipe-locally');
    type('#guard-code', '444444');
    press('Enter', $('#guard-code'));
    await flush();
    expect(calls('wipe_locally')).toEqual([{ code: '444444', id: 'k1' }]);
    expect($('#revoke-report')).toBeTruthy();
  });

  it('still-live keys: counted in the header in red; "I deleted it — confirm" asks for a code and calls confirm_deleted', async () => {
    backend.keys = [
      key('k1', 'okx-master', { status: 'still_live', stillLiveUrl: 'https://www.okx.com/account/my-api' }),
      key('k2', 'bybit-trade', { status: 'still_live_wiped', stillLiveUrl: 'https://www.bybit.com/app/user/api-management' }),
      key('k3', 'fine'),
    ];
    await app.refresh();
    const count = $('#still-live-count');
    expect(count.hidden).toBe(false);
    expect(count.textContent).toBe('2 keys still live');
    expect($('#key-list').querySelector('[data-id=k1] .still-live-title')?.textContent).toBe(
      'Still live at OKX — delete it on the website',
    );

    backend.report = { ...REPORT, items: [{ ...REPORT.items[0], id: 'k1', outcome: 'already_revoked' }], checklist: [] };
    click('[data-id=k1] .confirm-deleted');
    expect($('#confirm-deleted-dialog').textContent).toContain('refuses it as an unknown key');
    type('#guard-code', '555555');
    click('#confirm-deleted-confirm');
    await flush();
    expect(calls('confirm_deleted')).toEqual([{ code: '555555', id: 'k1' }]);
    expect($$('.report-item').map((r) => r.dataset.outcome)).toEqual(['already_revoked']);
    click('#revoke-done');
    await flush();

    backend.keys = [key('k3', 'fine')];
    await app.refresh();
    expect($('#still-live-count').hidden).toBe(true);
  });
});

describe('audit screen', () => {
  it('lists entries newest first and shows a broken chain in red', async () => {
    backend.audit = {
      entries: [
        { seq: 1, at: '2025-03-01T10:00:00Z', action: 'add', keyId: 'k1', label: 'okx-bot', outcome: 'ok', detail: '' },
        {
          seq: 3,
          at: '2025-03-03T10:00:00Z',
          action: 'revoke',
          keyId: 'k1',
          label: 'okx-bot',
          outcome: 'ok',
          detail: 'OKX confirmed',
        },
        {
          seq: 2,
          at: '2025-03-02T10:00:00Z',
          action: 'guard_verify',
          keyId: null,
          label: null,
          outcome: 'failed',
          detail: 'wrong code <b>x</b>',
        },
      ],
      chain: { ok: false, checked: 3, firstBroken: 2, anchor: 'matches', message: 'Entry 2 does not match the hash in entry 3.' },
    };
    click('#open-audit');
    await flush();
    expect(calls('audit_log')).toEqual([{ limit: 1000 }]);
    const rows = $$('#audit-view .audit-row');
    expect(rows.map((r) => [r.dataset.seq, r.dataset.action, r.dataset.outcome])).toEqual([
      ['3', 'revoke', 'ok'],
      ['2', 'guard_verify', 'failed'],
      ['1', 'add', 'ok'],
    ]);
    expect(rows[1].classList.contains('broken')).toBe(true);
    expect(rows[1].querySelector('b')).toBeNull();
    const chain = $('#audit-chain');
    expect(chain.dataset.ok).toBe('false');
    expect(chain.classList.contains('chain-broken')).toBe(true);
    expect(chain.textContent).toContain('broken at entry #2');
    expect(chain.textContent).toContain('Entry 2 does not match the hash in entry 3.');

    click('#close-audit');
    await flush();
    expect(document.querySelector('#audit-view')).toBeNull();
    expect($('[data-testid=key-card]')).toBeTruthy();

    backend.audit.chain = { ok: true, checked: 3, firstBroken: null, anchor: 'matches', message: 'ok' };
    click('#open-audit');
    await flush();
    expect($('#audit-chain').dataset.ok).toBe('true');
    expect($('#audit-chain').textContent).toBe('Audit log intact (3 entries checked)');
  });
});
