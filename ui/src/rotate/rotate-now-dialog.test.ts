// "Rotate…" for a key whose master Latchkey holds: one code, then Rust's report in words; a wrong
// code stays under the code field, and the old key's end is said as it is (deleted, or not).
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { AutoRotated, RotatedKey } from '../api/types';
import { keyView } from '../test-support/fixtures';
import { openRotateNowDialog, outcomeText } from './rotate-now-dialog';

function report(result: RotatedKey['result']): AutoRotated {
  return {
    report: {
      jobId: 'j1',
      kind: 'now',
      startedAt: '2026-12-01T10:00:00Z',
      finishedAt: '2026-12-01T10:00:05Z',
      keys: [{ keyId: 'k1', label: 'okx-grid', exchange: 'okx', result }],
    },
    key: result.result === 'rotated' ? keyView({ id: 'k2', label: 'okx-grid', autoRotate: 'on' }) : null,
  };
}

const ROTATED = { result: 'rotated', newKeyId: 'k2', newHint: 'ab12…9z', handover: null, oldKey: 'revoked' } as const;

describe('rotate-now outcome', () => {
  it('is green only when the old key is proven dead', () => {
    expect(outcomeText(report(ROTATED))).toEqual({
      ok: true,
      text: 'Rotated: the new key is ab12…9z; the old key is deleted and the exchange refuses it.',
    });
    const quarantined = outcomeText(report({ ...ROTATED, oldKey: 'quarantined' }));
    expect(quarantined.ok).toBe(false);
    expect(quarantined.text).toContain('the old key is quarantined');
    const failed = outcomeText(report({ result: 'failed', error: 'The master was refused.', kind: 'exchange' }));
    expect(failed).toEqual({ ok: false, text: 'Not rotated: The master was refused. The old key stays in use.' });
    expect(outcomeText(report({ result: 'pending' })).text).toContain('next time it starts');
  });
});

describe('rotate-now dialog', () => {
  afterEach(() => document.body.replaceChildren());
  const flush = () => new Promise((r) => setTimeout(r, 0));
  const $ = <T extends HTMLElement>(sel: string): T => document.querySelector<T>(sel)!;

  it('sends the code, shows the result, and keeps a wrong code under its field', async () => {
    document.body.replaceChildren(Object.assign(document.createElement('div'), { id: 'app' }));
    const rotate = vi
      .fn()
      .mockRejectedValueOnce({ kind: 'guard', code: 'wrong_code', message: 'That code is not right.' })
      .mockResolvedValueOnce(report(ROTATED));
    const rotated = vi.fn();
    const closed = vi.fn();
    const key = keyView({ id: 'k1', label: 'okx-grid', autoRotate: 'on', masterKeyId: 'm1' });
    openRotateNowDialog({ key, masterLabel: 'okx-master', rotate, onRotated: rotated, onClosed: closed });
    expect($('#rotate-now-desc').textContent).toContain('its master key “okx-master”');
    $<HTMLInputElement>('#rotate-now-code').value = '000000';
    $('#rotate-now-go').click();
    await flush();
    expect(rotate).toHaveBeenLastCalledWith('k1', '000000');
    expect($('[data-error-for=code]').textContent).toContain('not right');
    expect(rotated).not.toHaveBeenCalled();
    $<HTMLInputElement>('#rotate-now-code').value = '123456';
    $('#rotate-now-go').click();
    await flush();
    expect(rotated).toHaveBeenCalledTimes(1);
    expect($('#rotate-now-result').textContent).toContain('the old key is deleted');
    expect($('#rotate-now-go').hidden).toBe(true);
    $('#rotate-now-cancel').click();
    expect(closed).toHaveBeenCalledWith(true);
  });
});
