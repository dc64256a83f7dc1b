// The fix dialog: the IPs and the code sent, and the exchange's own 2FA code asked for only when the
// exchange asks (Deribit's security keys), then sent with the next try.
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { FixKeyInput, FixKeyResult } from '../api/types';
import { keyView } from '../test-support/fixtures';
import { openFixDialog } from './fix-dialog';

const flush = () => new Promise((r) => setTimeout(r, 0));
const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;

afterEach(() => {
  document.body.replaceChildren();
});

describe('fix dialog', () => {
  it('asks for the exchange’s own code when the exchange does, and sends it with the next try', async () => {
    const key = keyView({ id: 'k1', label: 'dbot', exchange: 'deribit', masterKeyId: 'm1', status: 'active' });
    const fixed = { record: key, gone: ['no_ip_whitelist'], stillThere: [] } as unknown as FixKeyResult;
    const fix = vi
      .fn<(id: string, input: FixKeyInput, code: string | null, exchangeCode?: string | null) => Promise<FixKeyResult>>()
      .mockRejectedValueOnce({ kind: 'exchange', code: 'exchange_code_required', message: 'Deribit asks for its own code.' })
      .mockResolvedValueOnce(fixed);
    const onFixed = vi.fn();
    openFixDialog({ key, kind: 'bind_ips', guardEnrolled: false, fix, onFixed, onClosed: () => {} });
    expect($('#fix-exchange-code-row').hidden).toBe(true);
    $<HTMLTextAreaElement>('#fix-ips').value = '203.0.113.7';
    $<HTMLButtonElement>('#fix-apply').click();
    await flush();
    expect(fix.mock.calls[0]).toEqual(['k1', { kind: 'bind_ips', ips: ['203.0.113.7'] }, null, null]);
    expect($('#fix-exchange-code-row').hidden).toBe(false);
    expect($('#fix-exchange-code-row').textContent).toContain('Deribit’s own 2FA code');
    expect($('#fix-error').textContent).toBe('Deribit asks for its own code.');
    expect(document.activeElement?.id).toBe('fix-exchange-code');
    $<HTMLInputElement>('#fix-exchange-code').value = '135790';
    $('#fix-exchange-code').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await flush();
    expect(fix.mock.calls[1][3]).toBe('135790');
    expect(onFixed).toHaveBeenCalledOnce();
  });
});
