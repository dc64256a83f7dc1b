// The inline error under each field of a form: one `<p data-error-for=field>` per field, the
// field's input marked `aria-invalid` while its error shows, and the first error focused. Shared by
// the Add key wizard, the rotation dialog and the edit dialog.

import { h } from './dom';

export class FieldErrors<F extends string> {
  private readonly els = new Map<F, HTMLElement>();

  /** `inputOf`: the control each field's error belongs to (null: none to mark, e.g. a group). */
  constructor(
    private readonly inputOf: (field: F) => HTMLElement | readonly HTMLElement[] | null,
    private readonly idPrefix = 'error-',
  ) {}

  /** The error line for `field`, created once; put it under the field. */
  el(field: F): HTMLElement {
    let el = this.els.get(field);
    if (!el) {
      el = h('p', { class: 'field-error', id: `${this.idPrefix}${field}`, 'data-error-for': field, hidden: true });
      this.els.set(field, el);
    }
    return el;
  }

  has(field: string): field is F {
    return this.els.has(field as F);
  }

  set(field: F, message: string | null): void {
    const el = this.els.get(field);
    if (!el) return;
    el.textContent = message ?? '';
    el.hidden = !message;
    for (const input of targets(this.inputOf(field))) {
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  clear(): void {
    for (const f of this.els.keys()) this.set(f, null);
  }

  /** Shows each error under its field and focuses the first field named. */
  show(errors: readonly { field: F; message: string }[]): void {
    for (const e of errors) this.set(e.field, e.message);
    const first = errors[0];
    if (!first) return;
    targets(this.inputOf(first.field))[0]?.focus();
  }
}

function targets(of: HTMLElement | readonly HTMLElement[] | null): readonly HTMLElement[] {
  return of === null ? [] : of instanceof HTMLElement ? [of] : of;
}
