// The wizard's details step: label, rotation period, environment and (custom) base URL.

import type { Environment, Exchange, KeyField } from '../api/types';
import { h } from '../lib/dom';
import { DEFAULT_ROTATION_DAYS, type EnvironmentKind } from './validate';

const ENV_OPTIONS: readonly [EnvironmentKind, string][] = [
  ['live', 'Live'],
  ['demo', 'Demo / testnet'],
  ['custom', 'Custom base URL'],
];

export interface DetailsStep {
  panel: HTMLElement;
  labelInput: HTMLInputElement;
  rotationInput: HTMLInputElement;
  envSelect: HTMLSelectElement;
  baseUrlInput: HTMLInputElement;
  /** Shows the base URL only for a custom environment; returns whether it is shown. */
  syncEnvironment(): boolean;
  /** The label's example follows the exchange: "e.g. okx-bot-main". */
  showExchange(ex: Exchange): void;
}

export interface DetailsOptions {
  defaultRotationDays?: number;
  /** The environment to start with (the last key's, base URL too). */
  environment?: Environment;
  /** The example label's exchange before one is chosen. */
  example?: Exchange;
}

const labelExample = (ex: Exchange | undefined): string => (ex ? `e.g. ${ex}-bot-main` : '');

export function detailsStep(errorEl: (field: KeyField) => HTMLElement, opts: DetailsOptions): DetailsStep {
  const labelInput = h('input', {
    id: 'label',
    name: 'label',
    type: 'text',
    maxlength: 200,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: labelExample(opts.example),
    'aria-describedby': 'label-help error-label',
  });
  const rotationInput = h('input', {
    id: 'rotation-days',
    name: 'rotationDays',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    value: String(opts.defaultRotationDays ?? DEFAULT_ROTATION_DAYS),
    'aria-describedby': 'rotation-help error-rotationDays',
  });
  const envSelect = h(
    'select',
    { id: 'environment', name: 'environment', 'aria-describedby': 'environment-help' },
    ...ENV_OPTIONS.map(([v, text]) => h('option', { value: v }, text)),
  );
  const baseUrlInput = h('input', {
    id: 'base-url',
    name: 'baseUrl',
    type: 'url',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'https://… or http://127.0.0.1:port',
    'aria-describedby': 'base-url-help error-baseUrl',
  });
  const baseUrlRow = h(
    'div',
    { class: 'field', hidden: true },
    h('label', { for: 'base-url' }, 'Base URL'),
    baseUrlInput,
    h(
      'p',
      { class: 'help', id: 'base-url-help' },
      'https only; plain http is allowed for a local simulator on 127.0.0.1, ::1 or localhost.',
    ),
    errorEl('baseUrl'),
  );
  if (opts.environment) {
    envSelect.value = opts.environment.kind;
    if (opts.environment.kind === 'custom') baseUrlInput.value = opts.environment.baseUrl;
  }

  const panel = h(
    'section',
    { class: 'panel', 'data-panel': 'details', hidden: true },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'label' }, 'Label'),
      labelInput,
      h('p', { class: 'help', id: 'label-help' }, 'A name you will recognise, up to 64 characters.'),
      errorEl('label'),
    ),
    h(
      'div',
      { class: 'field field-short' },
      h('label', { for: 'rotation-days' }, 'Rotate every (days)'),
      rotationInput,
      h(
        'p',
        { class: 'help', id: 'rotation-help' },
        'Latchkey reminds you when the key is due for rotation. 90 days is a good default.',
      ),
      errorEl('rotationDays'),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'environment' }, 'Environment'),
      envSelect,
      h('p', { class: 'help', id: 'environment-help' }, 'Live trading, the exchange’s demo/testnet, or your own base URL.'),
    ),
    baseUrlRow,
  );

  const syncEnvironment = (): boolean => {
    const custom = envSelect.value === 'custom';
    baseUrlRow.hidden = !custom;
    return custom;
  };

  return {
    panel,
    labelInput,
    rotationInput,
    envSelect,
    baseUrlInput,
    syncEnvironment,
    showExchange: (ex) => {
      labelInput.placeholder = labelExample(ex);
    },
  };
}
