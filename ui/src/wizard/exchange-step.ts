// The wizard's first step: which exchange the key is from. One radio card per exchange, from the
// adapters' data (name, what a key consists of, how an emergency revoke reaches it).

import { EXCHANGE_FORMS } from '../api/exchanges';
import type { Exchange } from '../api/types';
import { h } from '../lib/dom';

export interface ExchangeStep {
  panel: HTMLElement;
  radios: HTMLInputElement[];
  selected(): Exchange | null;
}

/** `errorEl` is the exchange's `[data-error-for]` element; `onMint` offers the other way in. */
export function exchangeStep(errorEl: HTMLElement, onMint?: () => void): ExchangeStep {
  const radios = EXCHANGE_FORMS.map(({ id }) =>
    h('input', {
      type: 'radio',
      name: 'exchange',
      value: id,
      id: `exchange-${id}`,
      class: 'radio-card-input',
      'aria-describedby': `exchange-${id}-blurb exchange-${id}-caps`,
    }),
  );
  const cards = EXCHANGE_FORMS.map(({ id, name, blurb, capabilities }, i) =>
    h(
      'label',
      { class: 'radio-card', for: `exchange-${id}` },
      radios[i],
      h(
        'span',
        { class: 'radio-card-body' },
        h('span', { class: `exchange-mark exchange-${id}`, 'aria-hidden': 'true' }, name.slice(0, 1)),
        h('span', { class: 'radio-card-title' }, name),
        h('span', { class: 'radio-card-blurb', id: `exchange-${id}-blurb` }, blurb),
        // What Latchkey can do there, before anything is pasted (from the adapter's capabilities).
        h(
          'span',
          { class: 'radio-card-blurb radio-card-caps', id: `exchange-${id}-caps` },
          ...[capabilities.inspect, capabilities.revoke, capabilities.automation].map((line) =>
            h('span', { class: 'radio-card-cap' }, line),
          ),
        ),
      ),
    ),
  );
  const panel = h(
    'section',
    { class: 'panel', 'data-panel': 'exchange', 'aria-labelledby': 'exchange-legend' },
    h(
      'fieldset',
      { class: 'radio-cards', 'aria-describedby': 'error-exchange' },
      h('legend', { id: 'exchange-legend' }, 'Which exchange is this key from?'),
      ...cards,
    ),
    errorEl,
    onMint ? mintChoice(onMint) : null,
  );
  const selected = (): Exchange | null => (radios.find((r) => r.checked)?.value as Exchange | undefined) ?? null;
  return { panel, radios, selected };
}

/** Beside pasting an existing key: a master key Latchkey holds creates one for a bot. */
function mintChoice(onMint: () => void): HTMLElement {
  const button = h(
    'button',
    { type: 'button', id: 'wizard-mint', class: 'btn btn-secondary', 'aria-haspopup': 'dialog' },
    'Create a new key for a bot…',
  );
  button.addEventListener('click', onMint);
  return h(
    'div',
    { class: 'mint-choice' },
    h(
      'p',
      { class: 'help' },
      'Or let a master key you added create a key for a bot in one of its sub-accounts: you never see or copy its secret.',
    ),
    button,
  );
}
