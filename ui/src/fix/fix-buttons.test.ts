import { describe, expect, it, vi } from 'vitest';

import { keyView } from '../test-support/fixtures';
import { renderFixes } from './fix-buttons';

const finding = { severity: 'high' as const, code: 'no_ip_whitelist', message: 'Trading without an IP whitelist.' };

describe('fix buttons on a card', () => {
  it('offers each fix Rust planned once, and says which was pressed', () => {
    const key = keyView({
      label: 'grid',
      fixes: [
        { finding, fixes: ['bind_ips', 'read_only'], cannotFix: null },
        { finding: { ...finding, code: 'withdraw_enabled' }, fixes: ['drop_withdraw', 'read_only'], cannotFix: null },
      ],
    });
    const onFix = vi.fn();
    const el = renderFixes(key, onFix)!;
    const buttons = [...el.querySelectorAll('button')];
    expect(buttons.map((b) => b.textContent)).toEqual(['Bind to these IPs…', 'Make read-only', 'Remove withdraw/transfer']);
    buttons[0].click();
    expect(onFix).toHaveBeenCalledWith('bind_ips');
  });

  it('shows nothing without a plan or a handler', () => {
    expect(renderFixes(keyView(), vi.fn())).toBeNull();
    expect(renderFixes(keyView({ fixes: [{ finding, fixes: ['bind_ips'], cannotFix: null }] }))).toBeNull();
  });
});
