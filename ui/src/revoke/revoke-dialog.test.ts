// The emergency revoke dialog while Rust works (IPC mocked, Rust's progress channel driven by
// hand): a visible counter and bar count every key that reaches a final state (proved and wiped,
// still live, quarantined), each key once, and every row shows its stage as it changes.
import { Channel } from '@tauri-apps/api/core';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { setChannelFactory } from '../api/commands';
import type { Exchange, RevokePlanItem, RevokeProgress, RevokeReport } from '../api/types';
import mixedRevoke from './fixtures/mixed-revoke.json';
import { openRevokeDialog } from './revoke-dialog';
import { ProgressCount } from './texts';

const PLAN: RevokePlanItem[] = [
  { id: 'k-local-1', label: 'okx main', exchange: 'okx', keyHint: 'a1b2…', action: 'manual', detail: '' },
  { id: 'k-remote', label: 'bybit wallet', exchange: 'bybit', keyHint: 'c3d4…', action: 'remote', detail: '' },
  { id: 'k-fails', label: 'okx bot', exchange: 'okx', keyHint: 'e5f6…', action: 'remote', detail: '' },
  { id: 'k-local-2', label: 'bybit trade', exchange: 'bybit', keyHint: 'g7h8…', action: 'manual', detail: '' },
];

let plan: RevokePlanItem[] = PLAN;
let send: ((p: RevokeProgress) => void) | null = null;
let finish: ((r: RevokeReport) => void) | null = null;
let restoreChannel: ReturnType<typeof setChannelFactory> | null = null;

beforeEach(() => {
  document.body.innerHTML = '<div id="app"></div>';
  plan = PLAN;
  send = null;
  restoreChannel = setChannelFactory((onMessage) => {
    send = onMessage;
    return new Channel<RevokeProgress>(onMessage);
  });
  mockIPC(async (cmd) => {
    switch (cmd) {
      case 'revoke_plan':
        return plan;
      case 'guard_status':
        return { enrolled: true, lockedUntil: null, recoveryCodesLeft: 10, setupSkipped: false };
      case 'emergency_revoke':
        return new Promise<RevokeReport>((resolve) => {
          finish = resolve;
        });
      default:
        throw new Error(`unexpected ${cmd}`);
    }
  });
});

afterEach(() => {
  if (restoreChannel) setChannelFactory(restoreChannel);
  clearMocks();
});

const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
};
const $ = <T extends Element = HTMLElement>(sel: string): T | null => document.querySelector<T>(sel);
const counter = (): string => $('#revoke-counter')?.textContent ?? '';
const meter = (): number => $<HTMLProgressElement>('#revoke-meter')?.value ?? -1;
const stage = (id: string): string => $(`#revoke-progress [data-id="${id}"] .progress-stage`)?.textContent ?? '';

describe('emergency revoke progress', () => {
  it('counts every key that reaches a final state, once, in a visible bar and counter', async () => {
    openRevokeDialog({ onEnroll: () => {}, onClosed: () => {} });
    await until(() => !!$('#revoke-confirm'));
    $<HTMLInputElement>('#guard-code')!.value = '123456';
    $<HTMLButtonElement>('#revoke-confirm')!.click();
    await until(() => send !== null && !!$('#revoke-progress'));

    // The counter is in the footer, visible: not a visually-hidden live region.
    expect($('#revoke-counter')!.closest('.dialog-footer')).not.toBeNull();
    expect($('#revoke-counter')!.closest('.visually-hidden')).toBeNull();
    expect(counter()).toBe('0 of 4 keys finished');
    expect($<HTMLProgressElement>('#revoke-meter')!.max).toBe(4);

    const emit = (id: string, s: RevokeProgress['stage']): void => send!({ id, stage: s, message: '' });
    emit('k-remote', 'remote_started');
    expect(stage('k-remote')).toBe('Revoking at Bybit…');
    emit('k-local-2', 'remote_started');
    expect(stage('k-local-2')).toBe('Asking Bybit about the key…');
    emit('k-remote', 'remote_ok');
    expect(counter()).toBe('0 of 4 keys finished');
    emit('k-remote', 'wiped');
    expect(counter()).toBe('1 of 4 keys finished');
    emit('k-local-1', 'manual');
    expect(stage('k-local-1')).toMatch(/Still live/);
    emit('k-fails', 'retrying');
    expect(counter()).toBe('2 of 4 keys finished');
    emit('k-fails', 'failed');
    expect(stage('k-fails')).toBe('Kept in quarantine');
    emit('k-local-2', 'manual');
    expect(counter()).toBe('4 of 4 keys finished');
    expect(meter()).toBe(4);
    // A stage after the final one (a wipe of a still-live key) counts nothing twice.
    emit('k-local-1', 'wiped');
    expect(counter()).toBe('4 of 4 keys finished');
    expect($('#revoke-status')!.textContent).toBe('4 of 4 keys finished.');

    finish!({
      jobId: 'j',
      kind: 'revoke',
      startedAt: '2025-03-10T12:00:00Z',
      finishedAt: '2025-03-10T12:00:05Z',
      items: [],
      checklist: [],
      servers: [],
    });
    await until(() => !!$('#revoke-report'));
  });
});

describe('emergency revoke progress, as a real run sends it', () => {
  /** Recorded from a real mixed revoke against the exchange simulator by
   * `a_mixed_revoke_sends_the_progress_the_ui_is_tested_with` (crates/core/tests/revoke.rs), which
   * fails when a run would send anything else. */
  const recorded = mixedRevoke as { plan: { id: string; exchange: Exchange; remote: boolean }[]; progress: RevokeProgress[] };

  it('counts every key of a mixed revoke (remote delete, still live, quarantine) to "N of N"', async () => {
    plan = recorded.plan.map((p) => ({
      id: p.id,
      label: p.id,
      exchange: p.exchange,
      keyHint: '…',
      action: p.remote ? 'remote' : 'manual',
      detail: '',
    }));
    const total = plan.length;
    openRevokeDialog({ onEnroll: () => {}, onClosed: () => {} });
    await until(() => !!$('#revoke-confirm'));
    $<HTMLInputElement>('#guard-code')!.value = '123456';
    $<HTMLButtonElement>('#revoke-confirm')!.click();
    await until(() => send !== null && !!$('#revoke-progress'));
    expect(counter()).toBe(`0 of ${total} keys finished`);

    for (const event of recorded.progress) send!(event);
    expect(counter()).toBe(`${total} of ${total} keys finished`);
    expect(meter()).toBe(total);
    // Each row ends on what its key's last event said.
    for (const p of plan) {
      const last = recorded.progress.filter((e) => e.id === p.id).at(-1)!;
      expect($(`#revoke-progress [data-id="${p.id}"]`)?.dataset.stage, p.id).toBe(last.stage);
    }
    expect(stage('okx-sub-bot')).toBe('Kept in quarantine');
    expect(stage('binance-master')).toMatch(/Still live/);
    expect(stage('bybit-sub-trade')).toBe('Secret wiped from the keychain');
  });
});

describe('ProgressCount', () => {
  it('counts proved, still-live and quarantined keys, not steps on the way', () => {
    const c = new ProgressCount(3);
    expect(c.record('a', 'remote_started')).toBe(false);
    expect(c.record('a', 'remote_ok')).toBe(false);
    expect(c.record('a', 'wiped')).toBe(true);
    expect(c.record('b', 'manual')).toBe(true);
    expect(c.record('b', 'wiped')).toBe(false);
    expect(c.record('c', 'failed')).toBe(true);
    expect([c.done, c.text()]).toEqual([3, '3 of 3 keys finished']);
    expect(new ProgressCount(1).text()).toBe('0 of 1 key finished');
  });
});
