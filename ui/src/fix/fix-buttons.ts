// The buttons beside a finding the exchange's API can fix through the key's master ("Bind to these
// IPs…", "Remove withdraw/transfer", "Make read-only"), from Rust's plan on the key view.

import type { FixKind, KeyView } from '../api/types';
import { h } from '../lib/dom';

export const FIX_LABELS: Record<FixKind, string> = {
  bind_ips: 'Bind to these IPs…',
  drop_withdraw: 'Remove withdraw/transfer',
  read_only: 'Make read-only',
};

/** One row per fixable finding, or nothing. */
export function renderFixes(key: Pick<KeyView, 'fixes' | 'label'>, onFix?: (kind: FixKind) => void): HTMLElement | null {
  if (!onFix || key.fixes.length === 0) return null;
  const kinds = [...new Set(key.fixes.flatMap((f) => f.fixes))];
  return h(
    'div',
    { class: 'key-fixes', 'aria-label': `Fixes for ${key.label}` },
    h('span', { class: 'help' }, 'Fix through its master:'),
    ...kinds.map((kind) => {
      const button = h(
        'button',
        { type: 'button', class: `btn btn-secondary btn-small fix-${kind}`, 'data-fix': kind, 'aria-haspopup': 'dialog' },
        FIX_LABELS[kind],
      );
      button.addEventListener('click', () => onFix(kind));
      return button;
    }),
  );
}
