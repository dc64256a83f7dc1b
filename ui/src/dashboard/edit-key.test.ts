// The Edit dialog: current values filled in, the wizard's field errors, only what changed sent, a
// code asked for a move (with 2FA on) and for turning bots on, and the re-verify result shown.
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { EditKeyInput, EditResult, KeyView } from '../api/types';
import { keyView } from '../test-support/fixtures';
import { openEditDialog } from './edit-dialog';
import { checkEdit, draftOf, labelsTakenBy, needsCode, reverifyTitle, reverifyTone, toEditInput } from './edit-key';

function key(over: Partial<KeyView> = {}): KeyView {
  return keyView({
    id: 'id-1',
    exchange: 'bybit',
    label: 'wallet',
    environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:9' },
    keyHint: 'abcd…wxyz',
    createdAt: '2025-03-07T11:00:00Z',
    rotatedAt: '2025-03-07T11:00:00Z',
    verifiedAt: null,
    rotationDays: 90,
    permissions: [],
    ipWhitelist: [],
    status: 'quarantined',
    inspection: null,
    findings: [],
    botsAllowed: true,
    ...over,
  });
}

describe('edit logic', () => {
  it('sends only what changed, trimmed, and a custom URL typed with a slash is no move', () => {
    const k = key();
    const same = { ...draftOf(k), label: ' wallet ', baseUrl: 'http://127.0.0.1:9/' };
    expect(toEditInput(same, k)).toEqual({});
    const moved = { ...draftOf(k), label: 'bybit-wallet', rotationDays: '30', baseUrl: 'http://127.0.0.1:8080' };
    expect(toEditInput(moved, k)).toEqual({
      label: 'bybit-wallet',
      rotationDays: 30,
      environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:8080' },
    });
    expect(toEditInput({ ...draftOf(k), environment: 'demo' }, k)).toEqual({ environment: { kind: 'demo' } });
    // Bots access is offered for keys in use only.
    expect(toEditInput({ ...draftOf(k), botsAllowed: false }, k)).toEqual({});
    expect(toEditInput({ ...draftOf(key({ status: 'active' })), botsAllowed: false }, key({ status: 'active' }))).toEqual({
      botsAllowed: false,
    });
  });

  it('uses the wizard rules, with the other keys in use as taken labels', () => {
    const k = key();
    const keys = [k, key({ id: 'id-2', label: 'Hedge', status: 'active' }), key({ id: 'id-3', label: 'old', status: 'revoked' })];
    const taken = labelsTakenBy(keys, k);
    expect(taken).toEqual(['Hedge']);
    const fields = (over: Partial<ReturnType<typeof draftOf>>) =>
      checkEdit({ ...draftOf(k), ...over }, taken).map((e) => [e.field, e.message]);
    expect(fields({ label: 'hedge' })).toEqual([['label', 'Another key already has this label: choose a different one.']]);
    expect(fields({ label: 'old', rotationDays: '0' })[0]?.[0]).toBe('rotationDays');
    expect(fields({ baseUrl: 'http://eu.okx.com' })).toEqual([
      ['baseUrl', 'Use https: plain http is only allowed for a local simulator on 127.0.0.1, ::1 or localhost.'],
    ]);
    expect(fields({ environment: 'live', baseUrl: 'junk' })).toEqual([]);
  });

  it('asks a code for a move while 2FA is on and for bots on, never for label or rotation', () => {
    const move: EditKeyInput = { environment: { kind: 'demo' } };
    expect([needsCode(move, true), needsCode(move, false)]).toEqual([true, false]);
    expect(needsCode({ label: 'x', rotationDays: 3 }, true)).toBe(false);
    expect(needsCode({ botsAllowed: true }, false)).toBe(true);
    expect(needsCode({ botsAllowed: false }, true)).toBe(false);
    expect(needsCode({ autoRotate: true }, false)).toBe(true);
    expect(needsCode({ autoRotate: false }, true)).toBe(false);
  });

  it('offers automatic rotation only for a key whose master Latchkey holds, and sends only a change', () => {
    const off = key({ status: 'active', autoRotate: 'off' });
    expect(toEditInput({ ...draftOf(off), autoRotate: true }, off)).toEqual({ autoRotate: true });
    expect(toEditInput(draftOf(off), off)).toEqual({});
    const on = key({ status: 'active', autoRotate: 'on' });
    expect(draftOf(on).autoRotate).toBe(true);
    expect(toEditInput({ ...draftOf(on), autoRotate: false }, on)).toEqual({ autoRotate: false });
    const alone = key({ status: 'active', autoRotate: 'unavailable' });
    expect(toEditInput({ ...draftOf(alone), autoRotate: true }, alone)).toEqual({});
  });
});

describe('re-verify result', () => {
  it('is green only for a key in use that answered', () => {
    const r = (outcome: 'verified' | 'rejected' | 'failed', status: KeyView['status']) => ({ outcome, status, message: 'm' });
    expect([reverifyTone(r('verified', 'active')), reverifyTitle(r('verified', 'active'))]).toEqual([
      'ok',
      'Verified at the new address',
    ]);
    expect(reverifyTone(r('verified', 'quarantined'))).toBe('warn');
    expect(reverifyTitle(r('verified', 'still_live'))).toContain('blocked until it is deleted');
    expect([reverifyTone(r('rejected', 'quarantined')), reverifyTone(r('failed', 'active'))]).toEqual(['danger', 'warn']);
  });
});

describe('edit dialog', () => {
  afterEach(() => document.body.replaceChildren());

  function open(k: KeyView, edit: (id: string, input: EditKeyInput, code: string | null) => Promise<EditResult>) {
    document.body.replaceChildren(Object.assign(document.createElement('div'), { id: 'app' }));
    const saved = vi.fn();
    const closed = vi.fn();
    openEditDialog({ key: k, keys: [k], guardEnrolled: true, edit, onSaved: saved, onClosed: closed });
    const $ = <T extends HTMLElement>(sel: string): T => document.querySelector<T>(sel)!;
    const type = (sel: string, value: string) => {
      const el = $<HTMLInputElement>(sel);
      el.value = value;
      el.dispatchEvent(new Event('input'));
    };
    return { saved, closed, $, type };
  }

  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('opens with the current values; a move asks for the code, then shows the re-verify result', async () => {
    const k = key();
    const reply: EditResult = {
      key: { ...k, environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:8080' } },
      changes: ['environment http://127.0.0.1:9 → http://127.0.0.1:8080'],
      reverify: {
        outcome: 'verified',
        status: 'quarantined',
        message:
          'Bybit answered at the new address: the key still works there, so it stays quarantined and blocked from use. Retry the revoke now: it goes to the new address.',
      },
    };
    const edit = vi.fn(async () => reply);
    const { saved, closed, $, type } = open(k, edit);
    expect($<HTMLInputElement>('#edit-label').value).toBe('wallet');
    expect($<HTMLInputElement>('#edit-rotation-days').value).toBe('90');
    expect($<HTMLSelectElement>('#edit-environment').value).toBe('custom');
    expect($<HTMLInputElement>('#edit-base-url').value).toBe('http://127.0.0.1:9');
    expect($('#edit-code').closest<HTMLElement>('.field')!.hidden).toBe(true);

    type('#edit-base-url', 'http://eu.example.com');
    $('#edit-save').click();
    await flush();
    expect($('#edit-error-baseUrl').textContent).toContain('Use https');
    expect(edit).not.toHaveBeenCalled();

    type('#edit-base-url', 'http://127.0.0.1:8080');
    expect($('#edit-code').closest<HTMLElement>('.field')!.hidden).toBe(false);
    expect($('#edit-move-note').hidden).toBe(false);
    $('#edit-save').click();
    await flush();
    expect(edit).not.toHaveBeenCalled();
    expect(document.querySelector('[data-error-for=code]')!.textContent).toContain('Enter the code');
    type('#edit-code', '123456');
    $('#edit-save').click();
    await flush();
    expect(edit).toHaveBeenCalledWith('id-1', { environment: { kind: 'custom', baseUrl: 'http://127.0.0.1:8080' } }, '123456');
    expect(saved).toHaveBeenCalledWith(reply);
    const result = $('#edit-result');
    expect(result.dataset.outcome).toBe('verified');
    expect(result.textContent).toContain('Still works at the new address: it stays quarantined');
    expect(result.className).toContain('edit-result-warn');
    expect(result.textContent).toContain('Saved: environment http://127.0.0.1:9 → http://127.0.0.1:8080.');
    expect($('#edit-save').hidden).toBe(true);
    expect(closed).not.toHaveBeenCalled();
    $('#edit-cancel').click();
    expect(closed).toHaveBeenCalled();
    expect(document.getElementById('edit-dialog')).toBeNull();
  });

  it("a label change needs no code and closes; Rust's field error lands under its field", async () => {
    const k = key({ status: 'active' });
    const edit = vi
      .fn()
      .mockRejectedValueOnce({
        kind: 'invalid',
        field: 'label',
        message: "A key labelled 'x' already exists: choose another label.",
      })
      .mockResolvedValueOnce({ key: { ...k, label: 'y' }, changes: ["label 'wallet' → 'y'"], reverify: null });
    const { closed, $, type } = open(k, edit);
    type('#edit-label', 'x');
    $('#edit-save').click();
    await flush();
    expect(edit).toHaveBeenLastCalledWith('id-1', { label: 'x' }, null);
    expect($('#edit-error-label').textContent).toContain('already exists');
    expect(closed).not.toHaveBeenCalled();
    type('#edit-label', 'y');
    expect($('#edit-error-label').hidden).toBe(true);
    $('#edit-save').click();
    await flush();
    expect(closed).toHaveBeenCalled();
  });

  it('turning automatic rotation on asks for the code and sends it; the switch is absent where it cannot work', async () => {
    const k = key({ status: 'active', autoRotate: 'off' });
    const edit = vi.fn().mockResolvedValueOnce({
      key: { ...k, autoRotate: 'on' },
      changes: ['rotates automatically through its master'],
      reverify: null,
    });
    const { closed, $ } = open(k, edit);
    expect($('#edit-code').closest<HTMLElement>('.field')!.hidden).toBe(true);
    $<HTMLInputElement>('#edit-auto-rotate').checked = true;
    $('#edit-auto-rotate').dispatchEvent(new Event('change'));
    expect($('#edit-code').closest<HTMLElement>('.field')!.hidden).toBe(false);
    $<HTMLInputElement>('#edit-code').value = '123456';
    $('#edit-save').click();
    await flush();
    expect(edit).toHaveBeenCalledWith('id-1', { autoRotate: true }, '123456');
    expect(closed).toHaveBeenCalled();

    open(key({ status: 'active', autoRotate: 'unavailable' }), vi.fn());
    expect(document.querySelector('#edit-auto-rotate')).toBeNull();
  });

  it('shows the code field when Rust asks for a code the dialog did not expect', async () => {
    const k = key({ status: 'active' });
    document.body.replaceChildren(Object.assign(document.createElement('div'), { id: 'app' }));
    const edit = vi.fn().mockRejectedValueOnce({ kind: 'guard', code: 'code_needed', message: 'Moving key needs a 2FA code.' });
    openEditDialog({ key: k, keys: [k], guardEnrolled: false, edit, onSaved: vi.fn(), onClosed: vi.fn() });
    document.querySelector<HTMLSelectElement>('#edit-environment')!.value = 'demo';
    document.querySelector('#edit-environment')!.dispatchEvent(new Event('change'));
    expect(document.querySelector('#edit-code')!.closest<HTMLElement>('.field')!.hidden).toBe(true);
    document.querySelector<HTMLElement>('#edit-save')!.click();
    await flush();
    expect(edit).toHaveBeenCalledWith('id-1', { environment: { kind: 'demo' } }, null);
    expect(document.querySelector('#edit-code')!.closest<HTMLElement>('.field')!.hidden).toBe(false);
    expect(document.querySelector('[data-error-for=code]')!.textContent).toContain('needs a 2FA code');
  });
});
