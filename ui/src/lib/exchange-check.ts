// The panel where a dialog shows what the exchange said about credentials being checked (the Add
// key wizard's confirm step, the rotation dialog's check step): a live region whose `data-state`
// is idle, checking, ok or failed, and a token so that an answer which arrives after the user moved
// on, started another check or closed the dialog is dropped.

import { h } from './dom';

export type CheckState = 'idle' | 'checking' | 'ok' | 'failed';

export interface ExchangeCheckOptions {
  id: string;
  /** The heading's id inside the panel (the region is labelled by it). */
  titleId: string;
  /** The wizard hides the panel until a check starts; the rotation dialog keeps it in its step. */
  hideWhenIdle?: boolean;
  /** Called after every state change (buttons follow the state). */
  onChange: () => void;
}

export class ExchangeCheck {
  readonly region: HTMLElement;
  private current: CheckState = 'idle';
  private token = 0;

  constructor(private readonly opts: ExchangeCheckOptions) {
    this.region = h('div', {
      id: opts.id,
      class: 'verify',
      'data-state': 'idle',
      hidden: !!opts.hideWhenIdle,
      role: 'region',
      'aria-labelledby': opts.titleId,
      'aria-live': 'polite',
      tabindex: -1,
    });
  }

  get state(): CheckState {
    return this.current;
  }

  show(state: CheckState, ...content: (Node | null)[]): void {
    this.current = state;
    this.region.setAttribute('data-state', state);
    if (this.opts.hideWhenIdle) this.region.hidden = state === 'idle';
    this.region.replaceChildren(...content.filter((c): c is Node => c !== null));
    this.opts.onChange();
  }

  /** Drops the answer of the check under way, if any. */
  cancel(): void {
    this.token += 1;
  }

  /** Shows the spinner with `title` and `text`, then asks. `done` runs whatever the answer (the
   * caller blanks the secret payload there); `answered` and `failed` only if the answer is still
   * wanted: no newer check, no `cancel`, and `wanted()` (the dialog is still open). */
  async run<R>(
    title: string,
    text: string,
    ask: () => Promise<R>,
    on: { done: () => void; wanted: () => boolean; answered: (r: R) => void; failed: (raw: unknown) => void },
  ): Promise<void> {
    const token = ++this.token;
    this.show(
      'checking',
      h(
        'div',
        { class: 'verify-head' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        h('h3', { id: this.opts.titleId }, title),
      ),
      h('p', { class: 'muted' }, text),
    );
    let outcome: { ok: true; value: R } | { ok: false; raw: unknown };
    try {
      outcome = { ok: true, value: await ask() };
    } catch (raw) {
      outcome = { ok: false, raw };
    }
    on.done();
    if (token !== this.token || !on.wanted()) return;
    if (outcome.ok) on.answered(outcome.value);
    else on.failed(outcome.raw);
  }

  /** Focus is on the panel, a button that just went away, or nowhere: safe to move it. `keep`: a
   * control inside the panel the user may be about to press. */
  isFocusParked(keep: HTMLElement): boolean {
    const a = document.activeElement;
    return !a || a === document.body || a === this.region || !a.isConnected || (this.region.contains(a) && a !== keep);
  }
}
