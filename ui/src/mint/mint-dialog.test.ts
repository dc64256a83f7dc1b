// The mint dialog: the masters on the list, the exchange's sub-accounts (or what the master lacks),
// what is sent (read and trade at most, the IPs typed, the acknowledgement), the code asked for with
// 2FA on, and nothing secret shown.
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { MintInput, MintResult, SubAccountsView } from '../api/types';
import { keyView } from '../test-support/fixtures';
import { mastersOf, openMintDialog, parseIps } from './mint-dialog';

const master = keyView({ id: 'm1', label: 'okx-master', exchange: 'okx', status: 'active' });
const sub = keyView({ id: 's1', label: 'bot', masterKeyId: 'm1', status: 'active' });
const ready: SubAccountsView = {
  ready: true,
  problems: [],
  accounts: [
    { id: 'bot-sub-1', name: 'bot-sub-1', frozen: false },
    { id: 'frozen-sub', name: 'frozen-sub', frozen: true },
  ],
  noIpWarning: 'OKX deletes such keys after 14 days unused',
};

const flush = () => new Promise((r) => setTimeout(r, 0));
const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;

afterEach(() => {
  document.body.replaceChildren();
});

describe('mint dialog', () => {
  it('offers active keys that are no sub key as masters, and reads IPs however they are typed', () => {
    expect(mastersOf([master, sub, keyView({ id: 'r', status: 'revoked' })]).map((k) => k.id)).toEqual(['m1']);
    expect(parseIps(' 203.0.113.7,\n198.51.100.2  10.0.0.1 ')).toEqual(['203.0.113.7', '198.51.100.2', '10.0.0.1']);
  });

  it('lists the sub-accounts and sends what was chosen with the code', async () => {
    const list = vi.fn(() => Promise.resolve(ready));
    const sent: [MintInput, string | null][] = [];
    const mint = vi.fn((input: MintInput, code: string | null, _exchangeCode?: string | null) => {
      sent.push([input, code]);
      return Promise.resolve({
        key: keyView({ id: 'n1', label: 'grid', keyHint: 'ab12…cd34' }),
        unverified: null,
        notes: [],
      } as MintResult);
    });
    const onMinted = vi.fn();
    openMintDialog({ keys: [master, sub], guardEnrolled: true, list, mint, onMinted, onClosed: () => {} });
    await flush();
    expect(list).toHaveBeenCalledWith('m1', null);
    const options = [...$<HTMLSelectElement>('#mint-sub-account').options];
    expect(options.map((o) => [o.value, o.disabled])).toEqual([
      ['bot-sub-1', false],
      ['frozen-sub', true],
    ]);
    expect($('#mint-no-ips-text').textContent).toContain('OKX deletes such keys after 14 days unused');
    $<HTMLInputElement>('#mint-ips').value = '203.0.113.7, 198.51.100.2';
    $<HTMLInputElement>('#mint-label').value = ' grid ';
    $<HTMLInputElement>('#mint-perm-read').checked = true;
    $<HTMLButtonElement>('#mint-create').click();
    expect(mint).not.toHaveBeenCalled(); // No code yet: asked for under its field.
    $<HTMLInputElement>('#mint-code').value = '123456';
    $<HTMLButtonElement>('#mint-create').click();
    await flush();
    expect(sent).toEqual([
      [
        {
          masterId: 'm1',
          subAccount: 'bot-sub-1',
          label: 'grid',
          trade: false,
          ips: ['203.0.113.7', '198.51.100.2'],
          noIpWhitelist: false,
          rotationDays: 90,
          autoRotate: true,
          expireDays: null,
        },
        '123456',
      ],
    ]);
    expect(mint.mock.calls[0][2]).toBeNull(); // No exchange code: the exchange did not ask.
    expect(onMinted).toHaveBeenCalledOnce();
    expect($('#mint-result').textContent).toBe('Created “grid” (ab12…cd34): its secret is in the keychain.');
  });

  it('says what a master lacks, and creates nothing', async () => {
    const list = vi.fn(() =>
      Promise.resolve({ ...ready, ready: false, problems: ['The key must be bound to an IP address.'], accounts: [] }),
    );
    const mint = vi.fn();
    openMintDialog({ keys: [master], guardEnrolled: false, list, mint, onMinted: () => {}, onClosed: () => {} });
    await flush();
    expect($('#mint-master-note').textContent).toBe(
      'This key cannot create bot keys yet: The key must be bound to an IP address.',
    );
    expect($<HTMLButtonElement>('#mint-create').disabled).toBe(true);
    expect($<HTMLInputElement>('#mint-code').closest<HTMLElement>('.field, div')?.hidden).toBe(true);
  });

  it('asks for the exchange’s own 2FA code when the exchange does, and sends it with the listing and the create', async () => {
    const deribit = keyView({ id: 'd1', label: 'deribit-master', exchange: 'deribit', status: 'active' });
    const asked = { kind: 'exchange', code: 'exchange_code_required', message: 'Deribit asks for its own two-factor code.' };
    const list = vi
      .fn<(id: string, exchangeCode?: string | null) => Promise<SubAccountsView>>()
      .mockRejectedValueOnce(asked)
      .mockResolvedValueOnce(ready);
    const mint = vi.fn((_input: MintInput, _code: string | null, _exchangeCode?: string | null) =>
      Promise.resolve({
        key: keyView({ id: 'n2', label: 'dbot', keyHint: 'ab12…cd34' }),
        unverified: null,
        notes: [],
      } as MintResult),
    );
    openMintDialog({ keys: [deribit], guardEnrolled: false, list, mint, onMinted: () => {}, onClosed: () => {} });
    await flush();
    const row = $('#mint-exchange-code-row');
    expect(row.hidden).toBe(false);
    expect(row.textContent).toContain('Deribit’s own 2FA code');
    expect($('#mint-error').textContent).toBe('Deribit asks for its own two-factor code.');
    expect(document.activeElement?.id).toBe('mint-exchange-code');
    $<HTMLInputElement>('#mint-exchange-code').value = ' 246810 ';
    $('#mint-exchange-code').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    await flush();
    expect(list).toHaveBeenLastCalledWith('d1', '246810');
    expect($<HTMLSelectElement>('#mint-sub-account').options.length).toBe(2);
    $<HTMLInputElement>('#mint-ips').value = '203.0.113.7';
    $<HTMLInputElement>('#mint-label').value = 'dbot';
    $<HTMLButtonElement>('#mint-create').click();
    await flush();
    expect(mint.mock.calls[0][2]).toBe('246810');
  });

  it('offers the lifetimes only an exchange that has them, and sends the one chosen', async () => {
    const kucoin = keyView({ id: 'k1', label: 'kucoin-master', exchange: 'kucoin', status: 'active' });
    const list = vi.fn(() => Promise.resolve(ready));
    const mint = vi.fn((_input: MintInput, _code: string | null, _exchangeCode?: string | null) =>
      Promise.resolve({ key: keyView({ id: 'n3', label: 'kbot' }), unverified: null, notes: [] } as MintResult),
    );
    openMintDialog({ keys: [kucoin, master], guardEnrolled: false, list, mint, onMinted: () => {}, onClosed: () => {} });
    const select = $<HTMLSelectElement>('#mint-master');
    select.value = 'm1';
    select.dispatchEvent(new Event('change'));
    await flush();
    expect($('#mint-expire-days').closest<HTMLElement>('.field')?.hidden).toBe(true); // OKX offers none.
    select.value = 'k1';
    select.dispatchEvent(new Event('change'));
    await flush();
    expect($('#mint-expire-days').closest<HTMLElement>('.field')?.hidden).toBe(false);
    expect([...$<HTMLSelectElement>('#mint-expire-days').options].map((o) => o.value)).toEqual(['', '30', '90', '180', '360']);
    $<HTMLSelectElement>('#mint-expire-days').value = '90';
    $<HTMLInputElement>('#mint-ips').value = '203.0.113.7';
    $<HTMLInputElement>('#mint-label').value = 'kbot';
    $<HTMLButtonElement>('#mint-create').click();
    await flush();
    expect(mint.mock.calls[0][0].expireDays).toBe(90);
  });
});
