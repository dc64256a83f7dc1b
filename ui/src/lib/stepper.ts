// The numbered step list at the top of a multi-step dialog ("1 Exchange · 2 Credentials · …"):
// earlier steps `done`, the shown one `current` with `aria-current="step"`, and a visually hidden
// live line that says "Step 2 of 4: Credentials". Shared by the wizard and the rotation dialog.

import { h } from './dom';

export class Stepper<S extends string> {
  readonly list: HTMLOListElement;
  readonly status: HTMLElement;
  private readonly items: HTMLLIElement[];

  constructor(
    private readonly steps: readonly S[],
    private readonly titles: Record<S, string>,
    statusId: string,
  ) {
    this.items = steps.map((s, i) =>
      h('li', { 'data-for': s }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, i + 1), titles[s]),
    );
    this.list = h('ol', { class: 'steps', 'aria-label': 'Steps' }, ...this.items);
    this.status = h('p', { class: 'visually-hidden', id: statusId, 'aria-live': 'polite' });
  }

  /** Marks `step` current (a step not in the list marks every listed step done). */
  show(step: S): void {
    const index = this.steps.indexOf(step);
    this.items.forEach((li, i) => {
      li.className = index < 0 || i < index ? 'done' : i === index ? 'current' : '';
      if (i === index) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    });
    this.status.textContent = index < 0 ? this.titles[step] : `Step ${index + 1} of ${this.steps.length}: ${this.titles[step]}`;
  }
}
