// The error banner (`#error-banner`): one element, shown where the user is looking. While a dialog
// is open it sits inside the dialog; otherwise under the header.

import { h } from './dom';

export class Banner {
  readonly el: HTMLDivElement;
  private readonly text: HTMLSpanElement;

  constructor() {
    this.text = h('span', { class: 'banner-text' });
    const dismiss = h('button', {
      type: 'button',
      class: 'banner-dismiss',
      'aria-label': 'Dismiss this message',
      title: 'Dismiss',
    });
    dismiss.addEventListener('click', () => this.clear());
    this.el = h('div', { id: 'error-banner', class: 'banner banner-error', role: 'alert', hidden: true }, this.text, dismiss);
  }

  show(message: string): void {
    this.text.textContent = message;
    this.el.hidden = false;
  }

  clear(): void {
    this.text.textContent = '';
    this.el.hidden = true;
  }

  get message(): string | null {
    return this.el.hidden ? null : this.text.textContent;
  }

  /** Moves the banner into `parent` (before `before`, if given), keeping what it shows. */
  mountIn(parent: Element, before: Node | null = null): void {
    parent.insertBefore(this.el, before);
  }
}
