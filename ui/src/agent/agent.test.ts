// The key card's signing agent dialog, with IPC mocked: offered only where Rust says the agent
// serves the key, the code goes to Rust with the bot's name, and the placeholders never reach the
// page: each Copy asks Rust for one part, and closing the dialog tells Rust to drop them.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { IssuedBotView, KeyView } from '../api/types';
import { mountApp } from '../app';
import { keyView } from '../test-support/fixtures';
import { $, flush, type } from '../test-support/dom';
import { botNameProblem } from './agent-dialog';

const NOW = new Date('2025-03-10T12:00:00Z');
const GOOD = '123456';

let keys: KeyView[];
let calls: { cmd: string; args: Record<string, unknown> }[];

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
      case 'agent_bots':
        return [
          { name: 'old-bot', issuedAt: '2025-03-01T00:00:00Z', host: null },
          { name: 'vps-bot', issuedAt: '2025-03-02T00:00:00Z', host: 'vps1' },
        ];
      case 'revoke_agent_bot':
        return null;
      case 'issue_agent_bot': {
        if (args.code !== GOOD) throw { kind: 'guard', code: 'wrong_code', message: 'Wrong code: check your authenticator.' };
        if (args.bot === 'old-bot')
          throw { kind: 'agent', code: 'busy', message: "A bot named 'old-bot' already has credentials." };
        const v: IssuedBotView = {
          bot: args.bot as string,
          label: 'okx-grid',
          baseUrl: 'http://127.0.0.1:18300/okx',
          keyHint: '3c8a…3c2d',
          hasPassphrase: true,
          copyableForSecs: 300,
        };
        return v;
      }
      case 'copy_agent_placeholder':
        return { clearsInSecs: 30 };
      case 'forget_agent_placeholder':
        return null;
      default:
        throw { kind: 'internal', message: `not mocked: ${cmd}` };
    }
  });
}

const sent = (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args);
const card = (id: string) => `[data-testid=key-card][data-id=${id}]`;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  keys = [
    keyView({ id: 'k1', label: 'okx-grid', agentServed: true, botsAllowed: true }),
    keyView({ id: 'k2', label: 'kraken-main', exchange: 'kraken', agentServed: false, botsAllowed: true }),
    keyView({ id: 'k3', label: 'okx-no-bots', agentServed: true, botsAllowed: false }),
  ];
  calls = [];
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

describe('signing agent from the key card', () => {
  it('is offered on keys bots may use, on exchanges the agent serves, as Rust says', () => {
    expect(document.querySelector(`${card('k1')} .agent-key`)).toBeTruthy();
    expect(document.querySelector(`${card('k2')} .agent-key`)).toBeNull();
    expect(document.querySelector(`${card('k3')} .agent-key`)).toBeNull();
  });

  it('issues with the code and the name; the page gets a hint, copies go through Rust, closing drops them', async () => {
    $(`${card('k1')} .agent-key`).click();
    await flush();
    expect($('#agent-dialog .agent-bot[data-bot=old-bot]')).toBeTruthy();
    expect(document.querySelector('#agent-dialog .agent-bot[data-bot=old-bot] .agent-bot-host')).toBeNull();
    expect($('#agent-dialog .agent-bot[data-bot=vps-bot] .agent-bot-host').textContent).toContain('on host vps1');
    expect(document.activeElement?.id).toBe('agent-bot-name');

    // A name Rust would refuse is explained before any code is spent.
    type('#agent-bot-name', 'no spaces');
    type('#guard-code', GOOD);
    $('#agent-issue').click();
    await flush();
    expect(sent('issue_agent_bot')).toEqual([]);
    expect($('#agent-dialog .dialog-error').textContent).toContain('letters, digits');

    type('#agent-bot-name', 'old-bot');
    type('#guard-code', GOOD);
    $('#agent-issue').click();
    await flush();
    expect($('#agent-dialog .dialog-error').textContent).toContain('already has credentials');

    type('#agent-bot-name', ' grid-bot ');
    type('#guard-code', GOOD);
    $('#agent-issue').click();
    await flush();
    expect(sent('issue_agent_bot').at(-1)).toEqual({ id: 'k1', bot: 'grid-bot', code: GOOD });
    expect(document.querySelector('#agent-dialog')).toBeNull();
    expect($('#agent-base-url').textContent).toBe('http://127.0.0.1:18300/okx');
    expect($('#agent-key-hint').textContent).toBe('3c8a…3c2d');
    const parts = [...document.querySelectorAll<HTMLElement>('#agent-issued .copy-placeholder')].map((b) => b.dataset.part);
    expect(parts).toEqual(['baseUrl', 'apiKey', 'secret', 'passphrase', 'envLines']);

    $('#agent-issued .copy-placeholder[data-part=secret]').click();
    await flush();
    expect(sent('copy_agent_placeholder')).toEqual([{ part: 'secret' }]);
    expect($('#agent-issued .agent-copied').textContent).toContain('cleared in 30 s');

    $('#agent-issued-done').click();
    await flush();
    expect(document.querySelector('#agent-issued')).toBeNull();
    expect(sent('forget_agent_placeholder')).toHaveLength(1);
  });

  it('revokes one bot on its own, without a code', async () => {
    $(`${card('k1')} .agent-key`).click();
    await flush();
    $('#agent-dialog .revoke-agent-bot[data-bot=old-bot]').click();
    await flush();
    expect(sent('revoke_agent_bot')).toEqual([{ name: 'old-bot' }]);
    expect(document.querySelector('#agent-dialog .agent-bot[data-bot=old-bot]')).toBeNull();
    expect($('#agent-dialog .agent-bots-status').textContent).toContain('revoked');
  });

  it('checks bot names as Rust does', () => {
    expect(botNameProblem('grid-bot_2.v1')).toBeNull();
    expect(botNameProblem('')).toContain('name');
    expect(botNameProblem('x'.repeat(65))).toContain('1 to 64');
    expect(botNameProblem('bot/1')).toContain('1 to 64');
  });
});
