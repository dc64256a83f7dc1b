// The rotation's first step: the new key's API key, secret and (if the exchange has one)
// passphrase, checked like the Add key wizard's. Secrets live only in these inputs.

import { needsPassphrase } from '../api/exchanges';
import type { KeyField, KeyView, RotateInput } from '../api/types';
import { h } from '../lib/dom';
import { hideSecret, secretField, type SecretField } from '../wizard/secret-field';
import { checkCredentials, type FieldError } from '../wizard/validate';

export type CredentialField = Extract<KeyField, 'apiKey' | 'apiSecret' | 'passphrase'>;
export const CREDENTIAL_FIELDS: readonly CredentialField[] = ['apiKey', 'apiSecret', 'passphrase'];

export interface NewKeyFields {
  panel: HTMLElement;
  fields: Record<CredentialField, SecretField>;
  /** The local shape checks on what is typed. */
  errors: () => FieldError[];
  /** A fresh payload from the inputs; the caller blanks it once Rust has answered. */
  read: () => RotateInput;
  hide: () => void;
  /** Empties and masks every input. */
  wipe: () => void;
}

export function newKeyFields(key: KeyView, exchange: string, errorEl: (f: CredentialField) => HTMLElement): NewKeyFields {
  const field = (id: string, name: CredentialField, label: string, help: string): SecretField =>
    secretField(id, name, label, help, errorEl(name), `rotate-error-${name}`);
  const fields: Record<CredentialField, SecretField> = {
    apiKey: field('rotate-api-key', 'apiKey', 'New API key', `Create the new key on ${exchange} first, then paste it here.`),
    apiSecret: field(
      'rotate-api-secret',
      'apiSecret',
      'New secret key',
      `The secret ${exchange} showed once, when you created the new key.`,
    ),
    passphrase: field(
      'rotate-passphrase',
      'passphrase',
      'New passphrase',
      `The passphrase you chose for the new key on ${exchange}.`,
    ),
  };
  const hasPassphrase = needsPassphrase(key.exchange);
  fields.passphrase.row.hidden = !hasPassphrase;
  const panel = h(
    'section',
    { class: 'panel', 'data-panel': 'credentials' },
    h(
      'p',
      { class: 'panel-intro', id: 'rotate-intro' },
      `Create a new API key on ${exchange}, then paste it here. Latchkey checks it, saves it as “${key.label}”, and retires the old key `,
      h('code', { class: 'key-hint' }, key.keyHint),
      ' — revoked at the exchange where its API allows, otherwise with a checklist.',
    ),
    fields.apiKey.row,
    fields.apiSecret.row,
    fields.passphrase.row,
  );
  const hide = (): void => CREDENTIAL_FIELDS.forEach((f) => hideSecret(fields[f]));

  return {
    panel,
    fields,
    errors: () =>
      checkCredentials(
        key.exchange,
        fields.apiKey.input.value,
        fields.apiSecret.input.value,
        hasPassphrase ? fields.passphrase.input.value : '',
      ),
    read: () => {
      const passphrase = fields.passphrase.input.value.trim();
      return {
        apiKey: fields.apiKey.input.value.trim(),
        apiSecret: fields.apiSecret.input.value.trim(),
        passphrase: hasPassphrase && passphrase ? passphrase : null,
      };
    },
    hide,
    wipe: () => {
      for (const f of CREDENTIAL_FIELDS) fields[f].input.value = '';
      hide();
    },
  };
}
