// Rotation reminders with IPC mocked: badges and texts per state, Rust's order kept, snooze, the due
// summary, guided rotation end to end (inspect → changes → acknowledgement → 2FA → rotate_key →
// report, secrets cleared), and the Settings screen.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type {
  Change,
  IpcError,
  KeyView,
  RevokeReport,
  RotationInspection,
  RotationState,
  RotationView,
  Settings,
} from './api/types';
import { mountApp, type App } from './app';
import { dueCount, historyText, shortDate, snoozedText } from './dashboard/rotation';
import { needsAck, sortChanges } from './rotate/rotate-dialog';
import { parseDueSoonDays } from './settings/settings-view';
import { keyView, reportItem } from './test-support/fixtures';

const NOW = new Date('2025-03-10T12:00:00Z');
const NEW_KEY = '9f2c0000-1234-4abc-9def-10fe7a033a21';
const NEW_SECRET = 'ABCDEF0123456789ABCDEF0123456789';
const NEW_PASS = 'New pass phrase';

function rotation(state: RotationState, text: string, over: Partial<RotationView> = {}): RotationView {
  return { state, text, dueAt: '2025-03-13T12:00:00Z', reason: 'policy', daysLeft: 3, ...over };
}

function key(id: string, label: string, over: Partial<KeyView> = {}): KeyView {
  return keyView({
    id,
    label,
    exchange: 'okx',
    environment: { kind: 'live' },
    keyHint: `${id}…hint`,
    createdAt: '2025-01-01T12:00:00Z',
    rotatedAt: '2025-01-01T12:00:00Z',
    verifiedAt: null,
    rotationDays: 90,
    permissions: ['read', 'trade'],
    ipWhitelist: ['203.0.113.7'],
    status: 'active',
    inspection: null,
    findings: [],
    rotation: rotation('ok', 'rotate in 40 days'),
    snoozedUntil: null,
    history: [],
    ...over,
  });
}

const REPORT: RevokeReport = {
  jobId: 'job-rot',
  kind: 'rotation',
  startedAt: '2025-03-10T12:00:00Z',
  finishedAt: '2025-03-10T12:00:01Z',
  items: [reportItem({ id: 'k1', label: 'okx-bot', keyHint: 'k1…hint', outcome: 'revoked', message: 'OKX confirmed.' })],
  checklist: [],
  servers: [],
};

const CHANGES: Change[] = [
  { code: 'adds_permission', severity: 'warning', message: 'The new key can also transfer.' },
  { code: 'drops_ip_whitelist', severity: 'high', message: 'The new key works from any IP address.' },
  { code: 'adds_withdraw', severity: 'critical', message: 'The new key can withdraw funds.' },
];

interface Backend {
  keys: KeyView[];
  calls: { cmd: string; args: Record<string, unknown> }[];
  settings: Settings;
  inspection: RotationInspection;
  inspectError: IpcError | null;
  saveError: IpcError | null;
  rotateError: IpcError | null;
}

let backend: Backend;
let app: App;

function install(): void {
  mockIPC(async (cmd, raw) => {
    const args = (raw ?? {}) as Record<string, unknown>;
    backend.calls.push({ cmd, args: structuredClone(args) });
    const take = (k: 'inspectError' | 'saveError' | 'rotateError') => {
      const e = backend[k];
      backend[k] = null;
      if (e) throw e;
    };
    switch (cmd) {
      case 'list_keys':
        return structuredClone(backend.keys);
      case 'keychain_status':
        return { ok: true, service: 'latchkey', message: null };
      case 'guard_status':
        return { enrolled: true, lockedUntil: null, recoveryCodesLeft: 10, setupSkipped: false };
      case 'get_settings':
        return structuredClone(backend.settings);
      case 'save_settings':
        take('saveError');
        backend.settings = structuredClone(args.settings as Settings);
        return structuredClone(backend.settings);
      case 'snooze_key': {
        const i = backend.keys.findIndex((k) => k.id === args.id);
        backend.keys[i] = {
          ...backend.keys[i],
          snoozedUntil: new Date(NOW.getTime() + (args.days as number) * 86400000).toISOString(),
        };
        return structuredClone(backend.keys[i]);
      }
      case 'inspect_rotation':
        take('inspectError');
        return structuredClone(backend.inspection);
      case 'rotate_key': {
        if (args.code !== '123456') throw { kind: 'guard', message: 'Wrong code.' };
        take('rotateError');
        const old = backend.keys.find((k) => k.id === args.id)!;
        const fresh = key('k1b', old.label, {
          keyHint: '9f2c…3a21',
          rotatedAt: NOW.toISOString(),
          history: [
            { id: old.id, keyHint: old.keyHint, createdAt: old.createdAt, retiredAt: NOW.toISOString(), status: 'revoked' },
          ],
        });
        backend.keys = [...backend.keys.filter((k) => k.id !== old.id), fresh];
        return { key: structuredClone(fresh), report: structuredClone(REPORT) };
      }
      case 'save_revoke_report':
        return '/tmp/report.txt';
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

const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`no element ${sel}`);
  return el;
};
const flush = async () => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setTimeout(r, 0));
};
function type(sel: string, value: string): void {
  const el = $<HTMLInputElement>(sel);
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}
const card = (label: string) => $(`[data-testid=key-card][data-label="${label}"]`);
const calls = (cmd: string) => backend.calls.filter((c) => c.cmd === cmd).map((c) => c.args);

beforeEach(async () => {
  backend = {
    keys: [],
    calls: [],
    settings: { defaultRotationDays: 60, dueSoonDays: 14, notifications: true, startAtLogin: false },
    inspection: {
      inspection: {
        exchange: 'okx',
        permissions: ['read', 'trade', 'withdraw'],
        ipRestricted: false,
        ipWhitelist: [],
        expiresAt: null,
        createdAt: null,
        accountKind: 'master',
        accountUid: '1001',
        masterUid: null,
        label: null,
        demo: false,
      },
      findings: [{ severity: 'critical', code: 'withdraw_enabled', message: 'The key can withdraw funds.' }],
      changes: structuredClone(CHANGES),
    },
    inspectError: null,
    saveError: null,
    rotateError: null,
  };
  install();
  await start();
});

afterEach(() => clearMocks());

describe('rotation texts', () => {
  it('formats dates, snoozes, history, counts and the change order', () => {
    expect(shortDate('2026-11-24T12:00:00Z')).toBe('24 Nov 2026');
    expect(snoozedText('2025-03-11T12:00:00Z', NOW)).toBe('Snoozed until 11 Mar 2025');
    expect(snoozedText('2025-03-09T12:00:00Z', NOW)).toBeNull();
    expect(
      historyText([
        {
          id: 'a',
          keyHint: '9f2c…3a21',
          createdAt: '2026-01-01T12:00:00Z',
          retiredAt: '2026-11-24T12:00:00Z',
          status: 'revoked',
        },
      ]),
    ).toBe('Replaced 9f2c…3a21 on 24 Nov 2026');
    expect(historyText([])).toBeNull();
    expect(
      dueCount([
        key('a', 'a', { rotation: rotation('due_soon', 'x') }),
        key('b', 'b'),
        key('c', 'c', { status: 'revoked', rotation: null }),
      ]),
    ).toBe(1);
    expect(sortChanges(CHANGES).map((c) => c.code)).toEqual(['adds_withdraw', 'drops_ip_whitelist', 'adds_permission']);
    expect(needsAck(CHANGES)).toBe(true);
    expect(needsAck([CHANGES[0]])).toBe(false);
    expect(parseDueSoonDays('0')).toBe(0);
    expect(parseDueSoonDays('91')).toMatchObject({ field: 'dueSoonDays' });
  });
});

describe('key cards', () => {
  beforeEach(async () => {
    backend.keys = [
      key('k4', 'gone', { rotation: rotation('expired', 'expired 1 day ago', { reason: 'exchange_expiry', daysLeft: -1 }) }),
      key('k3', 'late', {
        rotation: rotation('overdue', 'overdue by 2 days', { daysLeft: -2 }),
        snoozedUntil: '2025-03-11T12:00:00Z',
      }),
      key('k2', 'soon', { rotation: rotation('due_soon', 'rotate in 3 days') }),
      key('k1', 'fine', {
        history: [
          {
            id: 'k0',
            keyHint: '9f2c…3a21',
            createdAt: '2025-01-01T12:00:00Z',
            retiredAt: '2026-11-24T12:00:00Z',
            status: 'revoked',
          },
        ],
      }),
      key('k5', 'old', { status: 'revoked', rotation: null }),
    ];
    await app.refresh();
  });

  it('shows a badge with Rust’s state and text, in Rust’s order', () => {
    const cards = [...document.querySelectorAll<HTMLElement>('#key-list [data-testid=key-card]')];
    expect(cards.map((c) => c.dataset.label)).toEqual(['gone', 'late', 'soon', 'fine']);
    const badge = (label: string) => card(label).querySelector<HTMLElement>('.rotation-badge');
    expect(badge('gone')?.dataset.state).toBe('expired');
    // The state's word once: not "Expired · expired 1 day ago" nor "Overdue · overdue by 2 days".
    expect(badge('gone')?.textContent).toBe('Expired 1 day ago (exchange expiry)');
    expect(badge('late')?.dataset.state).toBe('overdue');
    expect(badge('late')?.textContent).toBe('Overdue by 2 days');
    expect(badge('soon')?.dataset.state).toBe('due_soon');
    expect(badge('soon')?.textContent).toBe('Due soon · rotate in 3 days');
    expect(badge('fine')?.dataset.state).toBe('ok');
    expect(badge('fine')?.textContent).toBe('rotate in 40 days');
    expect(card('old').querySelector('.rotation-badge')).toBeNull();
    // The old client-side due text is not shown next to Rust's.
    expect(document.querySelector('.key-due')).toBeNull();
  });

  it('offers snooze only when due, shows snoozes, history and Rotate', () => {
    for (const l of ['gone', 'late', 'soon']) expect(card(l).querySelectorAll('.snooze-key')).toHaveLength(2);
    expect(card('fine').querySelector('.snooze-key')).toBeNull();
    expect(card('late').querySelector('.snoozed-until')?.textContent).toBe('Snoozed until 11 Mar 2025');
    expect(card('soon').querySelector('.snoozed-until')).toBeNull();
    expect(card('fine').querySelector('.key-history')?.textContent).toBe('Replaced 9f2c…3a21 on 24 Nov 2026');
    expect(card('fine').querySelector('.rotate-key')).toBeTruthy();
    expect(card('old').querySelector('.rotate-key')).toBeNull();
  });

  it('counts the keys that need rotation', async () => {
    const summary = $('#due-summary');
    expect(summary.hidden).toBe(false);
    expect(summary.textContent).toBe('3 keys need rotation');
    backend.keys = [key('k1', 'fine')];
    await app.refresh();
    expect($('#due-summary').hidden).toBe(true);
  });

  it('snoozes for the chosen number of days and keeps the order', async () => {
    $('.snooze-key[data-days="7"]', card('soon')).click();
    await flush();
    $('.snooze-key[data-days="1"]', card('gone')).click();
    await flush();
    expect(calls('snooze_key')).toEqual([
      { id: 'k2', days: 7 },
      { id: 'k4', days: 1 },
    ]);
    expect(card('soon').querySelector('.snoozed-until')?.textContent).toBe('Snoozed until 17 Mar 2025');
    expect([...document.querySelectorAll<HTMLElement>('#key-list [data-testid=key-card]')].map((c) => c.dataset.label)).toEqual([
      'gone',
      'late',
      'soon',
      'fine',
    ]);
  });
});

describe('guided rotation', () => {
  beforeEach(async () => {
    backend.keys = [key('k1', 'okx-bot', { rotation: rotation('overdue', 'overdue by 2 days') })];
    await app.refresh();
  });

  const secretInputs = () => ['#rotate-api-key', '#rotate-api-secret', '#rotate-passphrase'].map((s) => $<HTMLInputElement>(s));
  const step = () => $('#rotate-dialog').dataset.step;

  it('inspects, shows the changes, needs the acknowledgement, rotates with the code, shows the report, clears the secrets', async () => {
    $('.rotate-key', card('okx-bot')).click();
    expect(step()).toBe('credentials');
    const inputs = secretInputs();
    // The local checks first: nothing leaves the window.
    $('#rotate-next').click();
    expect($('[data-error-for=apiKey]').hidden).toBe(false);
    expect(calls('inspect_rotation')).toHaveLength(0);

    type('#rotate-api-key', ` ${NEW_KEY} `);
    type('#rotate-api-secret', NEW_SECRET);
    type('#rotate-passphrase', NEW_PASS);
    $('#rotate-next').click();
    await flush();
    expect(step()).toBe('check');
    expect($('#rotate-check').dataset.state).toBe('ok');
    expect(calls('inspect_rotation')).toEqual([
      { id: 'k1', input: { apiKey: NEW_KEY, apiSecret: NEW_SECRET, passphrase: NEW_PASS } },
    ]);
    const changes = [...document.querySelectorAll<HTMLElement>('.change')].map((c) => [c.dataset.code, c.dataset.severity]);
    expect(changes).toEqual([
      ['adds_withdraw', 'critical'],
      ['drops_ip_whitelist', 'high'],
      ['adds_permission', 'warning'],
    ]);
    expect($('.change[data-code=adds_withdraw]').classList.contains('change-prominent')).toBe(true);
    expect($('#rotate-findings .finding[data-code=withdraw_enabled]')).toBeTruthy();

    // High and critical changes: no way on without the acknowledgement.
    $('#rotate-next').click();
    expect(step()).toBe('check');
    expect($('[data-error-for=ack]').hidden).toBe(false);
    $<HTMLInputElement>('#rotate-ack').click();
    $('#rotate-next').click();
    expect(step()).toBe('confirm');
    expect($('#rotate-new-hint').textContent).toBe('9f2c…3a21');
    expect(document.activeElement?.id).toBe('guard-code');
    expect($('#rotate-dialog').textContent).not.toContain(NEW_SECRET);

    type('#guard-code', '654321');
    $('#rotate-confirm').click();
    await flush();
    expect($('[data-error-for=code]').textContent).toBe('Wrong code.');
    expect(step()).toBe('confirm');

    type('#guard-code', '123456');
    $('#rotate-confirm').click();
    await flush();
    expect(calls('rotate_key').at(-1)).toEqual({
      id: 'k1',
      input: { apiKey: NEW_KEY, apiSecret: NEW_SECRET, passphrase: NEW_PASS },
      code: '123456',
      verify: true,
    });
    expect(step()).toBe('result');
    expect($('#rotate-result-hint').textContent).toBe('9f2c…3a21');
    expect($('#revoke-report .report-item[data-id=k1]').dataset.outcome).toBe('revoked');
    for (const el of inputs) expect(el.value).toBe('');
    expect($<HTMLInputElement>('#guard-code').value).toBe('');

    $('#rotate-done').click();
    await flush();
    expect(document.querySelector('#rotate-dialog')).toBeNull();
    expect(card('okx-bot').dataset.id).toBe('k1b');
    expect($('.key-history', card('okx-bot')).textContent).toContain('Replaced k1…hint');
    expect(document.body.textContent).not.toContain(NEW_SECRET);
  });

  it('offers retry and continue without verifying when the check fails; clears the inputs on cancel', async () => {
    backend.inspectError = { kind: 'exchange', code: 'invalid_key', field: 'apiKey', message: 'OKX does not know this API key.' };
    $('.rotate-key', card('okx-bot')).click();
    type('#rotate-api-key', NEW_KEY);
    type('#rotate-api-secret', NEW_SECRET);
    type('#rotate-passphrase', NEW_PASS);
    $('#rotate-next').click();
    await flush();
    expect($('#rotate-check').dataset.state).toBe('failed');
    expect($('#rotate-verify-error').textContent).toBe('OKX does not know this API key.');
    expect($('[data-error-for=apiKey]').textContent).toBe('OKX does not know this API key.');
    $('#rotate-retry-verify').click();
    await flush();
    expect($('#rotate-check').dataset.state).toBe('ok');
    expect(calls('inspect_rotation')).toHaveLength(2);

    backend.inspectError = { kind: 'exchange', code: 'timeout', message: 'OKX did not answer.' };
    $('#rotate-back').click();
    $('#rotate-next').click();
    await flush();
    $('#rotate-unverified').click();
    expect($('#rotate-dialog').dataset.step).toBe('confirm');
    expect($('#rotate-unverified-note').hidden).toBe(false);
    type('#guard-code', '123456');
    $('#rotate-confirm').click();
    await flush();
    expect(calls('rotate_key').at(-1)).toMatchObject({ code: '123456', verify: false });
    expect($('#rotate-dialog').dataset.step).toBe('result');

    $('#rotate-done').click();
    await flush();
    $('.rotate-key', card('okx-bot')).click();
    const inputs = secretInputs();
    type('#rotate-api-key', NEW_KEY);
    type('#rotate-api-secret', NEW_SECRET);
    $('#rotate-cancel').click();
    expect(document.querySelector('#rotate-dialog')).toBeNull();
    for (const el of inputs) expect(el.value).toBe('');
  });

  it('refuses the old key as its own replacement without offering to save it unverified', async () => {
    backend.inspectError = {
      kind: 'invalid',
      field: 'apiKey',
      message:
        "This is the same API key as 'okx-bot' (k1…hint): rotating to it would delete the key your bots use. Create a new API key on OKX first, then enter the new key here.",
    };
    $('.rotate-key', card('okx-bot')).click();
    type('#rotate-api-key', NEW_KEY);
    type('#rotate-api-secret', NEW_SECRET);
    type('#rotate-passphrase', NEW_PASS);
    $('#rotate-next').click();
    await flush();
    expect($('#rotate-check').dataset.state).toBe('failed');
    expect($('#rotate-check-title').textContent).toBe('This key cannot replace “okx-bot”');
    expect($('#rotate-verify-error').textContent).toContain('Create a new API key on OKX first');
    expect(document.querySelector('#rotate-unverified')).toBeNull();
    expect(document.querySelector('#rotate-retry-verify')).toBeNull();
    $('#rotate-fix-field').click();
    expect($('#rotate-dialog').dataset.step).toBe('credentials');
    expect(calls('rotate_key')).toHaveLength(0);
  });
});

describe('settings', () => {
  it('loads, saves, shows Rust’s errors inline, and the wizard starts at the saved default', async () => {
    $('#open-settings').click();
    await flush();
    expect($('#settings-view')).toBeTruthy();
    expect($<HTMLInputElement>('#setting-default-rotation').value).toBe('60');
    expect($<HTMLInputElement>('#setting-due-soon').value).toBe('14');
    expect($<HTMLInputElement>('#setting-notifications').checked).toBe(true);
    expect($<HTMLInputElement>('#setting-start-at-login').checked).toBe(false);

    // A local check: nothing is sent.
    type('#setting-due-soon', '120');
    $('#settings-save').click();
    await flush();
    expect($('[data-error-for=dueSoonDays]').hidden).toBe(false);
    expect(calls('save_settings')).toHaveLength(0);

    // Rust's error under the field it names.
    type('#setting-due-soon', '7');
    type('#setting-default-rotation', '30');
    backend.saveError = { kind: 'invalid', field: 'defaultRotationDays' as never, message: 'Rust says no.' };
    $('#settings-save').click();
    await flush();
    expect($('[data-error-for=defaultRotationDays]').textContent).toBe('Rust says no.');
    expect($('#settings-saved').hidden).toBe(true);

    $<HTMLInputElement>('#setting-start-at-login').click();
    $<HTMLInputElement>('#setting-notifications').click();
    $('#settings-save').click();
    await flush();
    expect(calls('save_settings').at(-1)).toEqual({
      settings: { defaultRotationDays: 30, dueSoonDays: 7, notifications: false, startAtLogin: true },
    });
    expect($('#settings-saved').hidden).toBe(false);
    expect($('#settings-saved').textContent).toBe('Settings saved.');
    expect($('[data-error-for=defaultRotationDays]').hidden).toBe(true);

    $('#add-key').click();
    await flush();
    expect(document.querySelector('#settings-view')).toBeNull();
    expect($<HTMLInputElement>('#rotation-days').value).toBe('30');
  });
});
