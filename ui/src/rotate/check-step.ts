// The rotation's check step: what the exchange reports about the new key, Rust's findings, and how
// it differs from the old key. A high or critical change must be acknowledged (`#rotate-ack`); a
// failed check offers retry, "Edit the …" and the quiet "Continue without verifying".

import type { IpcError, KeyView, RotationInspection } from '../api/types';
import { h } from '../lib/dom';
import { ExchangeCheck } from '../lib/exchange-check';
import { accountText, expiryText, ipText } from '../lib/risk';
import { renderFindings, renderPermissions } from '../lib/risk-view';
import { needsAck, renderChanges } from './changes';
import type { CredentialField } from './credentials';

const FIELD_NAMES: Record<CredentialField, string> = { apiKey: 'API key', apiSecret: 'secret key', passphrase: 'passphrase' };

export interface CheckStep {
  check: ExchangeCheck;
  ack: HTMLInputElement;
  retryBtn: HTMLButtonElement;
  fixBtn: HTMLButtonElement;
  unverifiedBtn: HTMLButtonElement;
  /** Shows the answer; returns whether it needs the acknowledgement. */
  showChecked(result: RotationInspection, now: Date): boolean;
  /** Shows the refusal; `fixField` offers "Edit the …" for the field it names. */
  showFailure(err: IpcError, fixField: CredentialField | null): void;
}

const row = (term: string, dd: HTMLElement): HTMLElement => h('div', { class: 'summary-row' }, h('dt', {}, term), dd);

const head = (text: string): HTMLElement =>
  h(
    'div',
    { class: 'verify-head' },
    h('span', { class: 'verify-mark', 'aria-hidden': 'true' }),
    h('h3', { id: 'rotate-check-title' }, text),
  );

/** `ackError` is the acknowledgement's `[data-error-for]` element. */
export function checkStep(key: KeyView, exchange: string, ackError: HTMLElement, onChange: () => void): CheckStep {
  const check = new ExchangeCheck({ id: 'rotate-check', titleId: 'rotate-check-title', onChange });
  const ack = h('input', { type: 'checkbox', id: 'rotate-ack', name: 'ack', 'aria-describedby': 'rotate-error-ack' });
  const ackRow = h(
    'div',
    { class: 'ack-row' },
    h(
      'label',
      { for: 'rotate-ack', class: 'ack-label' },
      ack,
      h('span', {}, 'I have read the warnings above and want to use this new key anyway.'),
    ),
    ackError,
  );
  const retryBtn = h('button', { type: 'button', id: 'rotate-retry-verify', class: 'btn btn-secondary' }, 'Try again');
  const fixBtn = h('button', { type: 'button', id: 'rotate-fix-field', class: 'btn btn-quiet' });
  const unverifiedBtn = h(
    'button',
    { type: 'button', id: 'rotate-unverified', class: 'btn btn-quiet btn-unverified' },
    'Continue without verifying',
  );

  const showChecked = ({ inspection, findings, changes }: RotationInspection, now: Date): boolean => {
    const expiry = expiryText(inspection.expiresAt, now);
    const ackRequired = needsAck(changes);
    ack.checked = false;
    check.show(
      'ok',
      head(`New key verified with ${exchange}${inspection.demo ? ' (demo)' : ''}`),
      h(
        'dl',
        { class: 'summary verify-details' },
        row('Permissions', h('dd', { id: 'rotate-permissions' }, renderPermissions(inspection.permissions))),
        row('IP whitelist', h('dd', { class: inspection.ipWhitelist.length ? 'mono' : '' }, ipText(inspection, 10))),
        expiry ? row('Expiry', h('dd', {}, expiry)) : null,
        row('Account', h('dd', {}, accountText(inspection))),
      ),
      renderFindings(findings, { id: 'rotate-findings' }),
      renderChanges(changes, key.keyHint),
      ackRequired ? ackRow : null,
    );
    return ackRequired;
  };

  const showFailure = (err: IpcError, fixField: CredentialField | null): void => {
    if (fixField) fixBtn.textContent = `Edit the ${FIELD_NAMES[fixField]}`;
    // Refused by Rust before any exchange was asked (e.g. the old key itself): saving without
    // verifying would be refused the same way, so it is not offered.
    const refused = err.kind === 'invalid';
    check.show(
      'failed',
      head(refused ? `This key cannot replace “${key.label}”` : `Could not verify the new key with ${exchange}`),
      h('p', { class: 'verify-error', id: 'rotate-verify-error', 'data-code': err.code ?? err.kind }, err.message),
      h(
        'div',
        { class: 'verify-actions' },
        refused ? null : retryBtn,
        fixField ? fixBtn : null,
        h('span', { class: 'spacer' }),
        refused ? null : unverifiedBtn,
      ),
    );
  };

  return { check, ack, retryBtn, fixBtn, unverifiedBtn, showChecked, showFailure };
}
