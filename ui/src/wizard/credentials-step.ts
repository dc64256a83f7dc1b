// The wizard's credentials step: API key, secret key and, for the exchanges that have one, the
// passphrase. Placeholders and help lines are the chosen exchange's (its adapter's data).

import { exchangeForm, exchangeName, needsPassphrase } from '../api/exchanges';
import type { Exchange, KeyField } from '../api/types';
import { h } from '../lib/dom';
import { hideSecret, secretField, type SecretField } from './secret-field';

const KEY_HELP = 'Copy it from the API management page of the exchange.';
const SECRET_HELP = 'The secret the exchange showed once, when you created the key.';

export interface CredentialsStep {
  panel: HTMLElement;
  apiKey: SecretField;
  apiSecret: SecretField;
  passphrase: SecretField;
  /** The three fields, the only places a secret lives. */
  secrets: readonly SecretField[];
  /** The words and the passphrase row for `ex`; a passphrase the exchange has no use for is
   * dropped (returns true then, so its error goes too). */
  showExchange(ex: Exchange | null): boolean;
  /** Masks every field again. */
  hide(): void;
  /** Empties every field. */
  wipe(): void;
}

export function credentialsStep(errorEl: (field: KeyField) => HTMLElement): CredentialsStep {
  const field = (id: string, name: KeyField, label: string, help: string): SecretField =>
    secretField(id, name, label, help, errorEl(name));
  const apiKey = field('api-key', 'apiKey', 'API key', KEY_HELP);
  const apiSecret = field('api-secret', 'apiSecret', 'Secret key', '');
  const passphrase = field('passphrase', 'passphrase', 'Passphrase', '');
  const secrets = [apiKey, apiSecret, passphrase];
  const panel = h(
    'section',
    { class: 'panel', 'data-panel': 'credentials', hidden: true },
    h(
      'p',
      { class: 'panel-intro', id: 'credentials-intro' },
      'Paste the key exactly as the exchange shows it. It goes straight to your OS keychain; Latchkey keeps only a masked hint.',
    ),
    apiKey.row,
    apiSecret.row,
    passphrase.row,
  );

  const showExchange = (ex: Exchange | null): boolean => {
    const form = ex ? exchangeForm(ex) : undefined;
    const hasPassphrase = needsPassphrase(ex);
    passphrase.row.hidden = !hasPassphrase;
    if (!hasPassphrase) passphrase.input.value = '';
    apiKey.input.placeholder = form?.apiKey.placeholder ?? '';
    apiKey.help.textContent = form?.apiKey.hint ?? KEY_HELP;
    apiSecret.input.placeholder = form?.apiSecret.placeholder ?? '';
    apiSecret.help.textContent = form?.apiSecret.hint ?? SECRET_HELP;
    const name = ex ? exchangeName(ex) : 'the exchange';
    passphrase.help.textContent = `The passphrase you chose when you created the key on ${name}.`;
    return !hasPassphrase;
  };

  return {
    panel,
    apiKey,
    apiSecret,
    passphrase,
    secrets,
    showExchange,
    hide: () => secrets.forEach(hideSecret),
    wipe: () => {
      for (const s of secrets) s.input.value = '';
      secrets.forEach(hideSecret);
    },
  };
}
