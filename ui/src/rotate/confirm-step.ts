// The rotation's confirm step: the old and new key side by side (masked hints only), whether the new
// one was verified, and one 2FA code (`#guard-code`).

import type { KeyView } from '../api/types';
import type { CodeField } from '../guard/code-field';
import { h } from '../lib/dom';
import { maskHint } from '../wizard/validate';

export interface ConfirmStep {
  panel: HTMLElement;
  /** Fills the summary for the new key as typed. */
  fill(newKey: string, verified: boolean): void;
}

const row = (term: string, dd: HTMLElement): HTMLElement => h('div', { class: 'summary-row' }, h('dt', {}, term), dd);

export function confirmStep(key: KeyView, exchange: string, code: CodeField): ConfirmStep {
  const newHint = h('dd', { id: 'rotate-new-hint', class: 'mono' });
  const checkText = h('dd', { id: 'rotate-summary-check' });
  const unverifiedNote = h(
    'p',
    { id: 'rotate-unverified-note', class: 'notice notice-warning', hidden: true },
    `Not verified: Latchkey could not ask ${exchange} about the new key, so it was not compared with the old one. Rotate only if you are sure the new key works.`,
  );
  const panel = h(
    'section',
    { class: 'panel', 'data-panel': 'confirm', hidden: true },
    h(
      'dl',
      { class: 'summary' },
      row('Label', h('dd', {}, key.label)),
      row('Exchange', h('dd', {}, exchange)),
      row('Old key', h('dd', { class: 'mono' }, key.keyHint)),
      row('New key', newHint),
      row('Check', checkText),
    ),
    unverifiedNote,
    h(
      'p',
      { class: 'muted' },
      'Rotating saves the new key and retires the old one. This needs a code from your authenticator app.',
    ),
    code.row,
  );
  return {
    panel,
    fill: (newKey, verified) => {
      newHint.textContent = maskHint(newKey);
      checkText.textContent = verified ? `Verified with ${exchange}` : 'Not verified';
      unverifiedNote.hidden = verified;
    },
  };
}
