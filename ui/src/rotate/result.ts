// The rotation's last step: the new key, and the old key's retirement report (`#revoke-report`).

import type { KeyView, RotateResult } from '../api/types';
import { h } from '../lib/dom';
import { renderRevokeReport } from '../revoke/report-view';

export function renderRotateResult(result: RotateResult, old: KeyView, showError: (message: string | null) => void): Node[] {
  return [
    h(
      'div',
      { id: 'rotate-result', class: 'notice notice-ok', tabindex: -1 },
      h(
        'p',
        {},
        h('strong', {}, 'New key saved. '),
        `“${result.key.label}” now uses `,
        h('code', { class: 'key-hint', id: 'rotate-result-hint' }, result.key.keyHint),
        '.',
      ),
      h(
        'p',
        {},
        'The old key ',
        h('code', { class: 'key-hint' }, old.keyHint),
        ' was retired: the report below says what happened to it.',
      ),
    ),
    renderRevokeReport(result.report, showError),
  ];
}
