// The wizard's confirm step: a summary of the key (a masked hint, never the secret), what the
// exchange reports about it (the ExchangeCheck panel), and whether bots may use it.

import type { InspectResult, IpcError, KeyField } from '../api/types';
import { exchangeCodeField, type ExchangeCodeField } from '../guard/exchange-code-field';
import { h } from '../lib/dom';
import { ExchangeCheck } from '../lib/exchange-check';
import { accountText, expiryText, ipText } from '../lib/risk';
import { renderFindings, renderPermissions } from '../lib/risk-view';
import { maskHint, type Draft } from './validate';

const FIELD_NAMES: Partial<Record<KeyField, string>> = {
  apiKey: 'API key',
  apiSecret: 'secret key',
  passphrase: 'passphrase',
  baseUrl: 'base URL',
  label: 'label',
};

export interface ConfirmStep {
  panel: HTMLElement;
  check: ExchangeCheck;
  botsInput: HTMLInputElement;
  retryBtn: HTMLButtonElement;
  /** The exchange's own 2FA code, shown when the exchange asks for it (Deribit's security keys). */
  exchangeCode: ExchangeCodeField;
  unverifiedBtn: HTMLButtonElement;
  fixFieldBtn: HTMLButtonElement;
  /** The summary of `draft`, for the exchange called `exchange`. */
  fill(draft: Draft, exchange: string): void;
  showInspection(result: InspectResult, exchange: string, now: Date): void;
  /** The exchange's refusal; `fixField` offers "Edit the …" for the field it names. */
  showFailure(err: IpcError, exchange: string, fixField: KeyField | null): void;
}

const row = (term: string, dd: HTMLElement): HTMLElement => h('div', { class: 'summary-row' }, h('dt', {}, term), dd);

export function confirmStep(onCheckChange: () => void): ConfirmStep {
  const summary = {
    exchange: h('dd', { id: 'summary-exchange' }),
    label: h('dd', { id: 'summary-label' }),
    environment: h('dd', { id: 'summary-environment' }),
    hint: h('dd', { id: 'summary-hint', class: 'mono' }),
    rotation: h('dd', { id: 'summary-rotation' }),
  };
  const check = new ExchangeCheck({ id: 'verify-result', titleId: 'verify-title', hideWhenIdle: true, onChange: onCheckChange });
  const retryBtn = h('button', { type: 'button', id: 'wizard-retry-verify', class: 'btn btn-secondary' }, 'Try again');
  const exchangeCode = exchangeCodeField('wizard-exchange-code', () => retryBtn.click());
  const unverifiedBtn = h(
    'button',
    { type: 'button', id: 'wizard-save-unverified', class: 'btn btn-quiet btn-unverified' },
    'Save without verifying',
  );
  const fixFieldBtn = h('button', { type: 'button', id: 'wizard-fix-field', class: 'btn btn-quiet' });
  // "Bots may use this key": on by default (a bot's key should just work with `latchkey run`).
  const botsInput = h('input', {
    id: 'bots-allowed',
    name: 'botsAllowed',
    type: 'checkbox',
    checked: true,
    'aria-describedby': 'bots-help',
  });

  const panel = h(
    'section',
    { class: 'panel', 'data-panel': 'confirm', hidden: true },
    h(
      'p',
      { class: 'panel-intro' },
      'Check the details and what the exchange reports, then save. The secret is written to your OS keychain and never shown again.',
    ),
    h(
      'dl',
      { class: 'summary' },
      row('Label', summary.label),
      row('Exchange', summary.exchange),
      row('Environment', summary.environment),
      row('API key', summary.hint),
      row('Rotation', summary.rotation),
    ),
    check.region,
    h(
      'div',
      { class: 'field field-check' },
      h('label', { for: 'bots-allowed' }, botsInput, ' Bots may use this key'),
      h(
        'p',
        { class: 'help', id: 'bots-help' },
        '`latchkey run` hands it to the commands you start. Untick it for a key only you use; turning it on later asks for a 2FA code. A master key that can delete other keys is never handed out.',
      ),
    ),
  );

  const fill = (d: Draft, exchange: string): void => {
    summary.exchange.textContent = d.exchange ? exchange : '';
    summary.label.textContent = d.label.trim();
    summary.environment.textContent =
      d.environment === 'custom' ? `Custom: ${d.baseUrl.trim()}` : d.environment === 'demo' ? 'Demo / testnet' : 'Live';
    summary.hint.textContent = maskHint(d.apiKey);
    summary.rotation.textContent = `Every ${Number(d.rotationDays.trim())} days`;
  };

  const head = (text: string): HTMLElement =>
    h(
      'div',
      { class: 'verify-head' },
      h('span', { class: 'verify-mark', 'aria-hidden': 'true' }),
      h('h3', { id: 'verify-title' }, text),
    );

  const showInspection = ({ inspection, findings }: InspectResult, exchange: string, now: Date): void => {
    const expiry = expiryText(inspection.expiresAt, now);
    check.show(
      'ok',
      head(`Verified with ${exchange}${inspection.demo ? ' (demo)' : ''}`),
      h(
        'dl',
        { class: 'summary verify-details' },
        row('Permissions', h('dd', { id: 'verify-permissions' }, renderPermissions(inspection.permissions))),
        row(
          'IP whitelist',
          h('dd', { id: 'verify-ips', class: inspection.ipWhitelist.length ? 'mono' : '' }, ipText(inspection, 10)),
        ),
        expiry ? row('Expiry', h('dd', { id: 'verify-expiry' }, expiry)) : null,
        row('Account', h('dd', { id: 'verify-account' }, accountText(inspection))),
      ),
      renderFindings(findings, { id: 'verify-findings' }),
    );
  };

  const showFailure = (err: IpcError, exchange: string, fixField: KeyField | null): void => {
    if (fixField) fixFieldBtn.textContent = `Edit the ${FIELD_NAMES[fixField] ?? fixField}`;
    check.show(
      'failed',
      head(`Could not verify with ${exchange}`),
      h('p', { class: 'verify-error', id: 'verify-error', 'data-code': err.code ?? err.kind }, err.message),
      exchangeCode.ask(err, exchange) ? exchangeCode.row : null,
      h(
        'div',
        { class: 'verify-actions' },
        retryBtn,
        fixField ? fixFieldBtn : null,
        h('span', { class: 'spacer' }),
        unverifiedBtn,
      ),
    );
  };

  return { panel, check, botsInput, retryBtn, exchangeCode, unverifiedBtn, fixFieldBtn, fill, showInspection, showFailure };
}
