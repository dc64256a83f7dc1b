// A Copy button for a value only Rust holds: the click asks Rust to put it on the clipboard (marked
// for clipboard managers to skip, cleared after the TTL) and the dialog's status line says so, or
// its error box says why not. The page never has the value to copy itself.

import type { CopyResult, IpcError } from '../api/types';
import { h, type Attrs } from './dom';

export interface CopyTargets {
  /** Says what was copied and when the clipboard clears. */
  status: HTMLElement;
  /** Shows Rust's refusal (an expired value…); hidden again at the next click. */
  errorBox: HTMLElement;
}

export function copyButton(what: string, copy: () => Promise<CopyResult>, to: CopyTargets, attrs: Attrs = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'btn btn-secondary btn-small', ...attrs }, 'Copy');
  b.setAttribute('aria-label', `Copy the ${what}`);
  b.addEventListener('click', () => {
    to.errorBox.hidden = true;
    copy().then(
      (r) => (to.status.textContent = `Copied the ${what}: the clipboard is cleared in ${r.clearsInSecs} s.`),
      (err: IpcError) => {
        to.errorBox.textContent = err.message;
        to.errorBox.hidden = false;
      },
    );
  });
  return b;
}
