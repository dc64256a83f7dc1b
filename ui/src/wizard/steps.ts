// The wizard's four steps together: their fields, the inline errors under them, the draft they
// hold, and how choosing an exchange or an environment changes them.

import { EXCHANGE_FORMS, exchangeForm } from '../api/exchanges';
import type { Environment, ExchangeForm, KeyField } from '../api/types';
import { FieldErrors } from '../lib/field-errors';
import { confirmStep, type ConfirmStep } from './confirm-step';
import { credentialsStep, type CredentialsStep } from './credentials-step';
import { detailsStep, type DetailsStep } from './details-step';
import { exchangeStep, type ExchangeStep } from './exchange-step';
import { emptyDraft, needsPassphrase, type Draft, type EnvironmentKind, type Step } from './validate';

export interface StepsOptions {
  defaultRotationDays?: number;
  environment?: Environment;
  /** The exchange check's state changed. */
  onCheckChange: () => void;
  /** The chosen exchange changed (null: none yet). */
  onExchange: (form: ExchangeForm | undefined) => void;
  /** The exchange step offers "Create a new key for a bot" when given. */
  onMint?: () => void;
}

export interface Steps {
  panels: Record<Step, HTMLElement>;
  errors: FieldErrors<KeyField>;
  exchange: ExchangeStep;
  creds: CredentialsStep;
  details: DetailsStep;
  confirm: ConfirmStep;
  /** The draft as currently typed. Holds secrets only for as long as the caller keeps it. */
  readDraft: () => Draft;
  /** The control a field's error belongs to (the chosen exchange's card, or the first). */
  fieldInput: (field: KeyField) => HTMLElement | null;
}

export function wizardSteps(o: StepsOptions): Steps {
  // The exchange's error marks every radio card and focuses the chosen one (or the first).
  const errors = new FieldErrors<KeyField>((field) =>
    field === 'exchange' ? [...exchange.radios].sort((a, b) => Number(b.checked) - Number(a.checked)) : fieldInput(field),
  );
  const errorEl = (field: KeyField): HTMLElement => errors.el(field);
  const exchange = exchangeStep(errorEl('exchange'), o.onMint);
  const creds = credentialsStep(errorEl);
  const details = detailsStep(errorEl, {
    defaultRotationDays: o.defaultRotationDays,
    environment: o.environment,
    example: EXCHANGE_FORMS[0]?.id,
  });
  const confirm = confirmStep(o.onCheckChange);
  const { apiKey, apiSecret, passphrase } = creds;
  const { labelInput, rotationInput, envSelect, baseUrlInput } = details;

  const readDraft = (): Draft => ({
    ...emptyDraft(),
    exchange: exchange.selected(),
    apiKey: apiKey.input.value,
    apiSecret: apiSecret.input.value,
    passphrase: needsPassphrase(exchange.selected()) ? passphrase.input.value : '',
    label: labelInput.value,
    rotationDays: rotationInput.value,
    environment: envSelect.value as EnvironmentKind,
    baseUrl: baseUrlInput.value,
  });

  const fieldInput = (field: KeyField): HTMLElement | null =>
    ({
      exchange: exchange.radios.find((r) => r.checked) ?? exchange.radios[0] ?? null,
      apiKey: apiKey.input,
      apiSecret: apiSecret.input,
      passphrase: passphrase.input,
      label: labelInput,
      rotationDays: rotationInput,
      baseUrl: baseUrlInput,
    })[field];

  const syncExchange = (): void => {
    const ex = exchange.selected();
    if (creds.showExchange(ex)) errors.set('passphrase', null);
    if (ex) details.showExchange(ex);
    o.onExchange(ex ? exchangeForm(ex) : undefined);
  };

  const syncEnvironment = (): void => {
    if (!details.syncEnvironment()) errors.set('baseUrl', null);
  };

  exchange.radios.forEach((r) =>
    r.addEventListener('change', () => {
      errors.set('exchange', null);
      syncExchange();
    }),
  );
  envSelect.addEventListener('change', syncEnvironment);
  for (const [field, el] of [
    ['apiKey', apiKey.input],
    ['apiSecret', apiSecret.input],
    ['passphrase', passphrase.input],
    ['label', labelInput],
    ['rotationDays', rotationInput],
    ['baseUrl', baseUrlInput],
  ] as const) {
    el.addEventListener('input', () => errors.set(field, null));
  }
  syncExchange();
  syncEnvironment();

  const panels = { exchange: exchange.panel, credentials: creds.panel, details: details.panel, confirm: confirm.panel };
  return { panels, errors, exchange, creds, details, confirm, readDraft, fieldInput };
}
