// Settings → Servers (OpenBao), Add host and the card's servers row: what is checked before Rust,
// what is sent (the credential once, never shown back), the test's report and its precise errors,
// the one-time enrolment dialog, and the hosts' last reads.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { EnrolmentView, HostReadView, ServersStatus } from '../api/types';
import { keyView } from '../test-support/fixtures';
import { agoText, isDeliverable, readText, renderServersRow } from './card-row';
import { checkHostInput, hostKeyChoices } from './host-dialogs';
import { errorParts, readServersForm, reportLines } from './servers-form';
import { renderServersSection } from './servers-section';

const NOW = new Date('2026-12-02T10:00:00Z');
const TOKEN = 's.0123456789abcdefTOKEN';
const WRAPPED = 's.wrappingTOKEN-once';
const flush = () => new Promise((r) => setTimeout(r, 0));
const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;
const type = (sel: string, value: string) => {
  const el = $<HTMLInputElement>(sel);
  el.value = value;
  el.dispatchEvent(new Event('input'));
};

const saved: ServersStatus = {
  settings: {
    addr: 'http://127.0.0.1:8200',
    mount: 'secret',
    prefix: 'latchkey',
    auth: 'token',
    username: null,
    userpassMount: null,
    maxVersions: 5,
  },
  credentialSaved: true,
  delivered: [],
};
const raw = { addr: 'https://bao.example.com', auth: 'token' as const, username: '', mount: '', prefix: '', credential: TOKEN };

describe('the servers form, before Rust', () => {
  it('sends defaults for an empty mount and prefix, and the credential only when typed', () => {
    const read = readServersForm(raw, null);
    expect(read).toEqual({
      settings: {
        addr: 'https://bao.example.com',
        auth: 'token',
        username: null,
        userpassMount: null,
        mount: 'secret',
        prefix: 'latchkey',
        maxVersions: 5,
      },
      credential: TOKEN,
    });
    const keep = readServersForm({ ...raw, credential: '  ' }, saved);
    expect('settings' in keep && keep.credential).toBe(null);
  });

  it('asks for what is missing, by field', () => {
    const fields = (r: ReturnType<typeof readServersForm>) => ('errors' in r ? r.errors.map((e) => e.field) : []);
    expect(fields(readServersForm({ ...raw, addr: 'bao.example.com', credential: '' }, null))).toEqual(['address', 'credential']);
    expect(fields(readServersForm({ ...raw, auth: 'userpass' }, null))).toEqual(['username']);
    // A token saved for the token method is no password for userpass.
    expect(fields(readServersForm({ ...raw, auth: 'userpass', username: 'desk', credential: '' }, saved))).toEqual([
      'credential',
    ]);
  });

  it('says what the test found, and sets the policy lines of a refusal apart', () => {
    const lines = reportLines({
      addr: 'http://127.0.0.1:8200',
      serverVersion: '2.7.2',
      standby: false,
      mount: 'secret',
      prefix: 'latchkey',
      tokenTtlSecs: null,
      tokenPolicies: ['root'],
    });
    expect(lines[0]).toBe('Connected to OpenBao 2.7.2 at http://127.0.0.1:8200.');
    expect(lines[1]).toContain('secret/data/latchkey/<label>');
    expect(lines[2]).toContain('never expires');
    const message =
      'The token may not use `secret/data/latchkey/…`: OpenBao said permission denied. Add to its policy: path "secret/data/latchkey/*" { capabilities = ["create", "update", "read"] }; path "secret/destroy/latchkey/*" { capabilities = ["update"] }';
    const parts = errorParts({ message, code: 'permission_denied' });
    expect(parts.text).toBe('The token may not use `secret/data/latchkey/…`: OpenBao said permission denied. Add to its policy:');
    expect(parts.policy).toEqual([
      'path "secret/data/latchkey/*" { capabilities = ["create", "update", "read"] }',
      'path "secret/destroy/latchkey/*" { capabilities = ["update"] }',
    ]);
    expect(errorParts({ message: 'OpenBao at x is sealed', code: 'server_sealed' })).toEqual({
      text: 'OpenBao at x is sealed',
      policy: [],
    });
  });
});

describe('hosts and the card row', () => {
  const bot = keyView({ id: 'k1', label: 'bot-1', status: 'active', botsAllowed: true });
  const off = keyView({ id: 'k2', label: 'manual', status: 'active', botsAllowed: false });
  const master = keyView({ id: 'k3', label: 'master', status: 'active', botsAllowed: true, managesKeys: 2 });
  const spaced = keyView({ id: 'k4', label: 'my bot', status: 'active', botsAllowed: true });

  it('offers only keys bots may use, with a label that is a path', () => {
    expect([bot, off, master, spaced].filter(isDeliverable).map((k) => k.id)).toEqual(['k1', 'k4']);
    expect(hostKeyChoices([bot, off, master, spaced]).map((k) => k.id)).toEqual(['k1']);
    expect(checkHostInput(' vps-1 ', ['k1'])).toBeNull();
    expect(checkHostInput('vps 1', ['k1'])).toContain('not usable');
    expect(checkHostInput('.hidden', ['k1'])).toContain('not usable');
    expect(checkHostInput('vps-1', [])).toBe('Choose at least one key the host may read.');
  });

  it('says when each host last read the key', () => {
    const read = (over: Partial<HostReadView>): HostReadView => ({
      host: 'vps-1',
      version: 3,
      readAt: '2026-12-02T09:58:00Z',
      seenAt: null,
      current: true,
      ...over,
    });
    expect(agoText('2026-12-02T09:59:30Z', NOW)).toBe('just now');
    expect(agoText('2026-12-02T07:00:00Z', NOW)).toBe('3 h ago');
    expect(agoText('2026-11-30T10:00:00Z', NOW)).toBe('2 days ago');
    expect(readText(read({}), NOW)).toBe('vps-1 · read 2 min ago');
    expect(readText(read({ readAt: null, version: null, current: false }), NOW)).toBe('vps-1 · never read');
    expect(readText(read({ current: false, version: 2 }), NOW)).toBe('vps-1 · read 2 min ago (version 2, not the latest)');

    const handlers = { onDeliver: vi.fn(), onUndeliver: vi.fn(), onRefreshReads: vi.fn() };
    expect(renderServersRow(off, { delivered: null }, handlers, NOW)).toBeNull();
    const fresh = renderServersRow(bot, { delivered: null }, handlers, NOW)!;
    fresh.querySelector<HTMLButtonElement>('.deliver-key')!.click();
    expect(handlers.onDeliver).toHaveBeenCalledWith(bot);
    const delivered = { keyId: 'k1', label: 'bot-1', version: 3, deliveredAt: '2026-12-02T09:00:00Z' };
    const row = renderServersRow(
      bot,
      { delivered, reads: [read({}), read({ host: 'vps-2', readAt: null, version: null, current: false })] },
      handlers,
      NOW,
    )!;
    expect([...row.querySelectorAll('.host-read')].map((li) => li.textContent)).toEqual([
      'vps-1 · read 2 min ago',
      'vps-2 · never read',
    ]);
    expect(row.textContent).toContain('On servers · version 3');
    row.querySelector<HTMLButtonElement>('.undeliver-key')!.click();
    expect(handlers.onUndeliver).toHaveBeenCalledWith(bot);
    // Bots turned off after the delivery: it can still be removed from the servers.
    expect(renderServersRow(off, { delivered, reads: [] }, handlers, NOW)?.querySelector('.undeliver-key')).not.toBeNull();
  });
});

describe('Settings → Servers (OpenBao)', () => {
  let calls: { cmd: string; args: Record<string, unknown> }[];
  let status: ServersStatus;
  let testError: unknown;

  beforeEach(() => {
    calls = [];
    status = { settings: null, credentialSaved: false, delivered: [] };
    testError = null;
    mockIPC((cmd, a) => {
      const args = (a ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: structuredClone(args) });
      switch (cmd) {
        case 'save_servers':
          status = { settings: args.settings as ServersStatus['settings'], credentialSaved: true, delivered: [] };
          return status;
        case 'test_servers':
          if (testError) throw testError;
          return {
            addr: 'http://127.0.0.1:8200',
            serverVersion: '2.7.2',
            standby: false,
            mount: 'secret',
            prefix: 'latchkey',
            tokenTtlSecs: 3600,
            tokenPolicies: ['latchkey'],
          };
        case 'server_hosts':
          return [{ name: 'vps-1', keys: ['bot-1'] }];
        case 'add_server_host': {
          if (args.code !== '123456') throw { kind: 'guard', code: 'wrong_code', message: 'Wrong code.' };
          const e: EnrolmentView = {
            name: args.name as string,
            addr: 'http://127.0.0.1:8200',
            roleId: 'role-abc',
            wrappedSecretId: WRAPPED,
            wrapTtlSecs: 600,
            paths: ['secret/data/latchkey/bot-1'],
            runLine: 'latchkey run --from openbao … bot-1 -- YOUR-BOT-COMMAND',
          };
          return e;
        }
        case 'copy_enrolment':
          return { clearsInSecs: 30 };
        case 'forget_enrolment':
          return null;
        default:
          throw { kind: 'internal', message: `unexpected ${cmd}` };
      }
    });
  });
  afterEach(() => {
    clearMocks();
    document.body.replaceChildren();
  });

  const mount = (s: ServersStatus | null) => {
    const onChanged = vi.fn();
    const bot = keyView({ id: 'k1', label: 'bot-1', status: 'active', botsAllowed: true });
    document.body.append(renderServersSection({ status: s, keys: () => [bot], onEnroll: vi.fn(), onChanged, announce: vi.fn() }));
    return onChanged;
  };

  it('saves the token once, blanks the field, and never fills it in', async () => {
    const onChanged = mount(null);
    expect($<HTMLButtonElement>('#servers-test').disabled).toBe(true);
    expect($<HTMLInputElement>('#servers-credential').type).toBe('password');
    type('#servers-addr', 'http://127.0.0.1:8200');
    type('#servers-credential', TOKEN);
    $<HTMLButtonElement>('#servers-save').click();
    await flush();
    await flush();
    const save = calls.find((c) => c.cmd === 'save_servers')!;
    expect(save.args.credential).toBe(TOKEN);
    expect((save.args.settings as { addr: string }).addr).toBe('http://127.0.0.1:8200');
    expect($<HTMLInputElement>('#servers-credential').value).toBe('');
    expect(document.body.innerHTML).not.toContain(TOKEN);
    expect(onChanged).toHaveBeenCalled();
    expect($('#servers-credential-help').textContent).toContain('Leave empty to keep it');
    expect($('#server-hosts').textContent).toContain('vps-1');
  });

  it('shows the report of a test, or its precise error with the policy lines', async () => {
    mount(saved);
    $<HTMLButtonElement>('#servers-test').click();
    await flush();
    expect($('#servers-result').textContent).toContain('Connected to OpenBao 2.7.2');
    testError = {
      kind: 'servers',
      code: 'permission_denied',
      message:
        'The token may not use `secret/data/latchkey/…`: OpenBao said permission denied. Add to its policy: path "secret/data/latchkey/*" { capabilities = ["create", "update", "read"] }',
    };
    $<HTMLButtonElement>('#servers-test').click();
    await flush();
    expect($('#servers-error').hidden).toBe(false);
    expect($('#servers-error .policy-lines').textContent).toBe(
      'path "secret/data/latchkey/*" { capabilities = ["create", "update", "read"] }',
    );
    expect($('#servers-result').hidden).toBe(true);
  });

  it('puts a refused field under its input', async () => {
    mount(saved);
    type('#servers-addr', 'http://10.0.0.5:8200');
    mockIPC(() => {
      throw { kind: 'invalid', serverField: 'address', message: 'Use https:// for OpenBao.' };
    });
    $<HTMLButtonElement>('#servers-save').click();
    await flush();
    expect($('#servers-addr-error').textContent).toBe('Use https:// for OpenBao.');
    expect($('#servers-addr').getAttribute('aria-invalid')).toBe('true');
  });

  it('adds a host with a code and shows its enrolment once, copied through Rust', async () => {
    mount(saved);
    await flush();
    $<HTMLButtonElement>('#add-host').click();
    type('#host-name', 'vps-2');
    $<HTMLInputElement>('.host-key[data-label="bot-1"]').checked = true;
    type('#guard-code', '123456');
    $<HTMLButtonElement>('#add-host-confirm').click();
    await flush();
    await flush();
    expect(calls.find((c) => c.cmd === 'add_server_host')?.args).toEqual({ name: 'vps-2', keyIds: ['k1'], code: '123456' });
    expect($('#enrolment-secret-id').textContent).toBe(WRAPPED);
    expect($('#enrolment-role-id').textContent).toBe('role-abc');
    $<HTMLButtonElement>('#copy-secret-id').click();
    await flush();
    expect(calls.find((c) => c.cmd === 'copy_enrolment')?.args).toEqual({ part: 'wrappedSecretId' });
    expect($('.enrolment-copied').textContent).toContain('cleared in 30 s');
    $<HTMLButtonElement>('#enrolment-done').click();
    await flush();
    expect(document.getElementById('enrolment-dialog')).toBeNull();
    expect(document.body.innerHTML).not.toContain(WRAPPED);
    expect(calls.some((c) => c.cmd === 'forget_enrolment')).toBe(true);
  });
});
