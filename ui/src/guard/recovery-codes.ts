// The 10 recovery codes, shown once at the end of enrolment. They live only in this DOM; "Copy
// codes" goes through Rust, like a key's secret: kept out of clipboard managers' history and
// cleared after the same time (or when Latchkey quits).

import { copyRecoveryCodes } from '../api/commands';
import { h } from '../lib/dom';

export interface RecoveryCodesView {
  body: Node[];
  buttons: HTMLElement[];
  /** The list, to focus. */
  list: HTMLElement;
}

export function renderRecoveryCodes(codes: readonly string[], onDone: () => void): RecoveryCodesView {
  const list = h(
    'ol',
    { id: 'recovery-codes', class: 'recovery-codes', tabindex: -1, 'aria-label': 'Recovery codes' },
    ...codes.map((c) => h('li', { class: 'recovery-code' }, h('code', {}, c))),
  );
  const copy = h('button', { type: 'button', id: 'copy-recovery', class: 'btn btn-secondary' }, 'Copy codes');
  copy.addEventListener('click', () => {
    void copyRecoveryCodes([...codes]).then(
      (r) => copy.replaceChildren(`Copied — clipboard clears in ${r.clearsInSecs} s`),
      () => copy.replaceChildren('Copy failed: select and copy them'),
    );
  });
  const doneBtn = h('button', { type: 'button', id: 'recovery-done', class: 'btn btn-primary' }, 'I saved them');
  doneBtn.addEventListener('click', onDone);
  const body = [
    h(
      'p',
      {},
      'If you lose your phone, each of these codes works once instead of a code from the app. Store them somewhere safe, away from this computer — a password manager or paper.',
    ),
    list,
    h('p', { class: 'muted' }, 'They are shown only now. Latchkey keeps only a hash of each one.'),
  ];
  return { body, buttons: [copy, doneBtn], list };
}
