// Guided rotation (`#rotate-dialog[data-step]`): replace a key with a new one from the same exchange,
// under the same label.
//   1. credentials — the new API key, secret and (if the exchange has one) passphrase, checked like
//      the Add key wizard's;
//   2. check — `inspect_rotation`: what the exchange reports about the new key, Rust's findings, and
//      how it differs from the old key (`.change[data-code][data-severity]`). A high or critical
//      change must be acknowledged (`#rotate-ack`). If the check fails: retry, or the quiet
//      "Continue without verifying" (then `verify: false`);
//   3. confirm — one 2FA code (`#guard-code`) and `#rotate-confirm` → `rotate_key`;
//   4. result — the new key, and the old key's retirement report (`#revoke-report`).
//
// Secrets live only in the three password inputs, as in the wizard: each call gets a short-lived
// payload whose fields are blanked as soon as Rust answers, and the inputs are emptied after a
// successful rotation and whenever the dialog closes.

import { inspectRotation, rotateKey, toIpcError } from '../api/commands';
import type { Change, KeyField, IpcError, KeyView, RotateInput, RotateResult, RotationInspection } from '../api/types';
import { exchangeName } from '../dashboard/format';
import { codeField } from '../guard/code-field';
import { h } from '../lib/dom';
import { FieldErrors } from '../lib/field-errors';
import { openModal } from '../lib/modal';
import { ExchangeCheck, type CheckState } from '../lib/exchange-check';
import { Stepper } from '../lib/stepper';
import { SEVERITY_LABELS, accountText, expiryText, ipText, severityRank } from '../lib/risk';
import { renderFindings, renderPermissions } from '../lib/risk-view';
import { renderRevokeReport } from '../revoke/revoke-dialog';
import { hideSecret, secretField, type SecretField } from '../wizard/secret-field';
import { checkCredentials, maskHint, needsPassphrase, type FieldError } from '../wizard/validate';

export type RotateStep = 'credentials' | 'check' | 'confirm' | 'result';
const STEPS: readonly RotateStep[] = ['credentials', 'check', 'confirm', 'result'];
const STEP_TITLES: Record<RotateStep, string> = { credentials: 'New key', check: 'Check', confirm: 'Confirm', result: 'Done' };

export type { CheckState } from '../lib/exchange-check';

/** Changes that weaken the key: always shown as warnings, whatever their severity. */
export const PROMINENT_CHANGES: readonly string[] = ['adds_withdraw', 'drops_ip_whitelist'];

type CredentialField = Extract<KeyField, 'apiKey' | 'apiSecret' | 'passphrase'>;
const CREDENTIAL_FIELDS: readonly CredentialField[] = ['apiKey', 'apiSecret', 'passphrase'];

export interface RotateDialogOptions {
  key: KeyView;
  now?: () => Date;
  returnFocus?: () => HTMLElement | null;
  /** `guard_missing`: the dialog closes, then the app opens enrolment. */
  onEnroll?: () => void;
  /** `rotate_key` succeeded (the dialog stays open on the report). */
  onRotated?: (result: RotateResult) => void;
  /** The dialog is gone; `rotated` is true if the key was replaced. */
  onClosed?: (rotated: boolean) => void;
}

export interface RotateDialog {
  readonly element: HTMLElement;
  readonly step: RotateStep;
  readonly checkState: CheckState;
  close(): void;
}

/** High and critical changes need the user's explicit acknowledgement. */
export function needsAck(changes: readonly Change[]): boolean {
  return changes.some((c) => c.severity === 'high' || c.severity === 'critical');
}

/** Most severe first; at the same severity, the weakening changes (withdraw, IP whitelist) first. */
export function sortChanges(changes: readonly Change[]): Change[] {
  const prominent = (c: Change): number => (PROMINENT_CHANGES.includes(c.code) ? 1 : 0);
  return [...changes].sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || prominent(b) - prominent(a));
}

export function openRotateDialog(opts: RotateDialogOptions): RotateDialog {
  const key = opts.key;
  const now = opts.now ?? (() => new Date());
  const ex = exchangeName(key.exchange);
  let step: RotateStep = 'credentials';
  let verify = true;
  let busy = false;
  let closed = false;
  let rotated = false;
  /** Bumped whenever a pending check's answer must be ignored (new check, step left, closed). */
  let ackRequired = false;
  let fixField: CredentialField | null = null;

  // ---- fields -------------------------------------------------------------------------------------

  const errors = new FieldErrors<CredentialField | 'ack'>(
    (field) => (field === 'ack' ? ack : fields[field].input),
    'rotate-error-',
  );
  const errorEl = (field: CredentialField | 'ack'): HTMLElement => errors.el(field);
  const fields: Record<CredentialField, SecretField> = {
    apiKey: secretField(
      'rotate-api-key',
      'apiKey',
      'New API key',
      `Create the new key on ${ex} first, then paste it here.`,
      errorEl('apiKey'),
      'rotate-error-apiKey',
    ),
    apiSecret: secretField(
      'rotate-api-secret',
      'apiSecret',
      'New secret key',
      `The secret ${ex} showed once, when you created the new key.`,
      errorEl('apiSecret'),
      'rotate-error-apiSecret',
    ),
    passphrase: secretField(
      'rotate-passphrase',
      'passphrase',
      'New passphrase',
      `The passphrase you chose for the new key on ${ex}.`,
      errorEl('passphrase'),
      'rotate-error-passphrase',
    ),
  };
  const hasPassphrase = needsPassphrase(key.exchange);
  fields.passphrase.row.hidden = !hasPassphrase;

  const setError = (field: CredentialField | 'ack', message: string | null): void => errors.set(field, message);
  const clearErrors = (): void => errors.clear();

  const credentialErrors = (): FieldError[] =>
    checkCredentials(
      key.exchange,
      fields.apiKey.input.value,
      fields.apiSecret.input.value,
      hasPassphrase ? fields.passphrase.input.value : '',
    );

  /** A fresh payload from the inputs; the caller blanks it once Rust has answered. */
  const readInput = (): RotateInput => {
    const passphrase = fields.passphrase.input.value.trim();
    return {
      apiKey: fields.apiKey.input.value.trim(),
      apiSecret: fields.apiSecret.input.value.trim(),
      passphrase: hasPassphrase && passphrase ? passphrase : null,
    };
  };

  const wipeInputs = (): void => {
    for (const f of CREDENTIAL_FIELDS) {
      fields[f].input.value = '';
      hideSecret(fields[f]);
    }
  };

  // ---- the check ----------------------------------------------------------------------------------

  const check = new ExchangeCheck({ id: 'rotate-check', titleId: 'rotate-check-title', onChange: () => sync() });
  const checkRegion = check.region;
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
    errorEl('ack'),
  );
  ack.addEventListener('change', () => setError('ack', null));
  const retryBtn = h('button', { type: 'button', id: 'rotate-retry-verify', class: 'btn btn-secondary' }, 'Try again');
  const fixBtn = h('button', { type: 'button', id: 'rotate-fix-field', class: 'btn btn-quiet' });
  const unverifiedBtn = h(
    'button',
    { type: 'button', id: 'rotate-unverified', class: 'btn btn-quiet btn-unverified' },
    'Continue without verifying',
  );

  const row = (term: string, dd: HTMLElement) => h('div', { class: 'summary-row' }, h('dt', {}, term), dd);

  const setCheck = (state: CheckState, ...content: (Node | null)[]): void => check.show(state, ...content);

  const renderChanges = (changes: readonly Change[]): HTMLElement => {
    const sorted = sortChanges(changes);
    return h(
      'section',
      { id: 'rotate-changes', class: 'changes', 'aria-labelledby': 'rotate-changes-title' },
      h('h4', { id: 'rotate-changes-title' }, 'Compared with the old key ', h('code', { class: 'key-hint' }, key.keyHint)),
      sorted.length === 0
        ? h('p', { class: 'muted change-none' }, 'Same permissions, IP whitelist and account as the old key.')
        : h(
            'ul',
            { class: 'findings change-list' },
            ...sorted.map((c) => {
              const prominent = PROMINENT_CHANGES.includes(c.code);
              // The weakening changes read as warnings at least, even if Rust rated them lower.
              const shown = prominent && c.severity === 'fine' ? 'warning' : c.severity;
              return h(
                'li',
                {
                  class: `finding change severity-${shown}${prominent ? ' change-prominent' : ''}`,
                  'data-code': c.code,
                  'data-severity': c.severity,
                },
                h('span', { class: 'severity-tag' }, SEVERITY_LABELS[shown] ?? shown),
                h('span', { class: 'finding-message' }, c.message),
              );
            }),
          ),
    );
  };

  const showChecked = ({ inspection, findings, changes }: RotationInspection): void => {
    const expiry = expiryText(inspection.expiresAt, now());
    ackRequired = needsAck(changes);
    ack.checked = false;
    setError('ack', null);
    setCheck(
      'ok',
      h(
        'div',
        { class: 'verify-head' },
        h('span', { class: 'verify-mark', 'aria-hidden': 'true' }),
        h('h3', { id: 'rotate-check-title' }, `New key verified with ${ex}${inspection.demo ? ' (demo)' : ''}`),
      ),
      h(
        'dl',
        { class: 'summary verify-details' },
        row('Permissions', h('dd', { id: 'rotate-permissions' }, renderPermissions(inspection.permissions))),
        row('IP whitelist', h('dd', { class: inspection.ipWhitelist.length ? 'mono' : '' }, ipText(inspection, 10))),
        expiry ? row('Expiry', h('dd', {}, expiry)) : null,
        row('Account', h('dd', {}, accountText(inspection))),
      ),
      renderFindings(findings, { id: 'rotate-findings' }),
      renderChanges(changes),
      ackRequired ? ackRow : null,
    );
  };

  const showCheckFailure = (err: IpcError): void => {
    fixField = CREDENTIAL_FIELDS.find((f) => f === err.field) ?? null;
    if (fixField) {
      setError(fixField, err.message);
      fixBtn.textContent = `Edit the ${{ apiKey: 'API key', apiSecret: 'secret key', passphrase: 'passphrase' }[fixField]}`;
    }
    ackRequired = false;
    // Refused by Rust before any exchange was asked (e.g. the old key itself): saving without
    // verifying would be refused the same way, so it is not offered.
    const refused = err.kind === 'invalid';
    setCheck(
      'failed',
      h(
        'div',
        { class: 'verify-head' },
        h('span', { class: 'verify-mark', 'aria-hidden': 'true' }),
        h(
          'h3',
          { id: 'rotate-check-title' },
          refused ? `This key cannot replace “${key.label}”` : `Could not verify the new key with ${ex}`,
        ),
      ),
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

  const startCheck = async (): Promise<void> => {
    if (closed) return;
    const input = readInput();
    verify = true;
    await check.run(
      `Checking the new key with ${ex}…`,
      'Latchkey asks the exchange what the new key may do and compares it with the old one. Nothing is saved yet.',
      () => inspectRotation(key.id, input),
      {
        done: () => wipe(input),
        wanted: () => !closed,
        answered: (result) => {
          showChecked(result);
          if (isFocusParked()) nextBtn.focus();
        },
        failed: (raw) => {
          showCheckFailure(toIpcError(raw));
          if (isFocusParked()) retryBtn.focus();
        },
      },
    );
  };

  const isFocusParked = (): boolean => check.isFocusParked(unverifiedBtn);

  // ---- confirm ------------------------------------------------------------------------------------

  const code = codeField({
    onSubmit: () => void confirm(),
    onEnroll: opts.onEnroll
      ? () => {
          close();
          opts.onEnroll?.();
        }
      : undefined,
  });
  const summary = {
    newHint: h('dd', { id: 'rotate-new-hint', class: 'mono' }),
    check: h('dd', { id: 'rotate-summary-check' }),
  };
  const unverifiedNote = h(
    'p',
    { id: 'rotate-unverified-note', class: 'notice notice-warning', hidden: true },
    `Not verified: Latchkey could not ask ${ex} about the new key, so it was not compared with the old one. Rotate only if you are sure the new key works.`,
  );
  const errorBox = h('p', { id: 'rotate-error', class: 'card-error dialog-error', role: 'alert', hidden: true });
  const showError = (message: string | null): void => {
    errorBox.textContent = message ?? '';
    errorBox.hidden = !message;
  };

  // ---- panels -------------------------------------------------------------------------------------

  const resultPanel = h('section', { class: 'panel', 'data-panel': 'result', hidden: true });
  const panels: Record<RotateStep, HTMLElement> = {
    credentials: h(
      'section',
      { class: 'panel', 'data-panel': 'credentials' },
      h(
        'p',
        { class: 'panel-intro', id: 'rotate-intro' },
        `Create a new API key on ${ex}, then paste it here. Latchkey checks it, saves it as “${key.label}”, and retires the old key `,
        h('code', { class: 'key-hint' }, key.keyHint),
        ' — revoked at the exchange where its API allows, otherwise with a checklist.',
      ),
      fields.apiKey.row,
      fields.apiSecret.row,
      fields.passphrase.row,
    ),
    check: h('section', { class: 'panel', 'data-panel': 'check', hidden: true }, checkRegion),
    confirm: h(
      'section',
      { class: 'panel', 'data-panel': 'confirm', hidden: true },
      h(
        'dl',
        { class: 'summary' },
        row('Label', h('dd', {}, key.label)),
        row('Exchange', h('dd', {}, ex)),
        row('Old key', h('dd', { class: 'mono' }, key.keyHint)),
        row('New key', summary.newHint),
        row('Check', summary.check),
      ),
      unverifiedNote,
      h(
        'p',
        { class: 'muted' },
        'Rotating saves the new key and retires the old one. This needs a code from your authenticator app.',
      ),
      code.row,
    ),
    result: resultPanel,
  };

  // ---- chrome -------------------------------------------------------------------------------------

  const stepper = new Stepper(STEPS, STEP_TITLES, 'rotate-step-status');
  const cancelBtn = h('button', { type: 'button', id: 'rotate-cancel', class: 'btn btn-quiet' }, 'Cancel');
  const backBtn = h('button', { type: 'button', id: 'rotate-back', class: 'btn btn-secondary' }, 'Back');
  const nextBtn = h('button', { type: 'button', id: 'rotate-next', class: 'btn btn-primary' }, 'Next');
  const confirmBtn = h('button', { type: 'button', id: 'rotate-confirm', class: 'btn btn-primary' }, 'Rotate key');
  const doneBtn = h('button', { type: 'button', id: 'rotate-done', class: 'btn btn-primary' }, 'Done');
  const title = h('h2', { id: 'rotate-title' }, `Rotate “${key.label}”`);
  const form = h('form', { class: 'wizard-form', novalidate: true, autocomplete: 'off' }, ...STEPS.map((s) => panels[s]));
  const modal = openModal(
    {
      id: 'rotate-dialog',
      labelledBy: 'rotate-title',
      describedBy: 'rotate-step-status',
      className: 'wizard dialog-rotate',
      onEscape: () => cancel(),
      returnFocus: opts.returnFocus,
    },
    h('div', { class: 'dialog-header' }, title, stepper.list),
    stepper.status,
    form,
    errorBox,
    h('div', { class: 'dialog-footer' }, cancelBtn, h('span', { class: 'spacer' }), backBtn, nextBtn, confirmBtn, doneBtn),
  );
  const root = modal.dialog;

  function sync(): void {
    root.setAttribute('data-step', step);
    for (const s of STEPS) panels[s].hidden = s !== step;
    stepper.show(step);
    cancelBtn.hidden = step === 'result';
    backBtn.hidden = step === 'credentials' || step === 'result';
    nextBtn.hidden = !(step === 'credentials' || (step === 'check' && check.state === 'ok'));
    nextBtn.textContent = step === 'credentials' ? `Check with ${ex}` : 'Continue';
    confirmBtn.hidden = step !== 'confirm';
    doneBtn.hidden = step !== 'result';
    for (const b of [cancelBtn, backBtn, nextBtn, retryBtn, fixBtn, unverifiedBtn]) b.disabled = busy;
    confirmBtn.disabled = busy;
    code.input.readOnly = busy;
    confirmBtn.textContent = busy ? 'Rotating…' : 'Rotate key';
    root.setAttribute('aria-busy', String(busy || check.state === 'checking'));
  }

  function goTo(s: RotateStep, recheck = true): void {
    if (s !== 'check' || recheck) {
      check.cancel();
      if (s === 'credentials') setCheck('idle');
    }
    step = s;
    showError(null);
    if (s !== 'credentials') for (const f of CREDENTIAL_FIELDS) hideSecret(fields[f]);
    if (s === 'check' && recheck) void startCheck();
    if (s === 'confirm') {
      summary.newHint.textContent = maskHint(fields.apiKey.input.value);
      summary.check.textContent = verify ? `Verified with ${ex}` : 'Not verified';
      unverifiedNote.hidden = verify;
    }
    if (s !== 'confirm') code.clear();
    sync();
    const focus: HTMLElement | null =
      s === 'credentials'
        ? fields.apiKey.input
        : s === 'check'
          ? check.state === 'ok'
            ? nextBtn
            : check.state === 'failed'
              ? retryBtn
              : checkRegion
          : s === 'confirm'
            ? code.input
            : document.getElementById('rotate-result');
    focus?.focus();
  }

  function next(): void {
    if (busy || closed) return;
    if (step === 'credentials') {
      clearErrors();
      // The shape checks name only the credential fields.
      const found = credentialErrors() as { field: CredentialField; message: string }[];
      if (found.length) {
        errors.show(found);
        return;
      }
      goTo('check');
    } else if (step === 'check' && check.state === 'ok') {
      if (ackRequired && !ack.checked) {
        setError('ack', 'Tick the box to confirm you have read the warnings, or go back and use a different key.');
        ack.focus();
        return;
      }
      goTo('confirm');
    }
  }

  function back(): void {
    if (busy) return;
    if (step === 'check') goTo('credentials');
    else if (step === 'confirm') {
      if (verify) goTo('check', false);
      else goTo('credentials');
    }
  }

  async function confirm(): Promise<void> {
    if (busy || closed || step !== 'confirm') return;
    showError(null);
    // Never send credentials the local checks refuse (the user may have gone back and edited them).
    if (credentialErrors().length) {
      goTo('credentials');
      next();
      return;
    }
    if (verify && (check.state !== 'ok' || (ackRequired && !ack.checked))) {
      goTo('check', check.state !== 'ok');
      return;
    }
    const c = code.read();
    if (!c) return;
    let input: RotateInput | null = readInput();
    busy = true;
    sync();
    try {
      const result = await rotateKey(key.id, input, c, verify);
      wipe(input);
      input = null;
      busy = false;
      rotated = true;
      wipeInputs();
      code.clear();
      if (closed) return;
      showResult(result);
      opts.onRotated?.(result);
    } catch (raw) {
      if (input) wipe(input);
      busy = false;
      sync();
      if (closed) return;
      showRotateError(toIpcError(raw));
    }
  }

  function showRotateError(err: IpcError): void {
    if (code.showError(err)) return;
    const field = CREDENTIAL_FIELDS.find((f) => f === err.field) ?? null;
    if (err.kind === 'exchange') {
      // Rust asked the exchange again and it refused: show it like a failed check.
      step = 'check';
      showCheckFailure(err);
      code.clear();
      sync();
      retryBtn.focus();
    } else if (field) {
      // Rust's own checks refused a credential: it is emptied so it is pasted again.
      fields[field].input.value = '';
      goTo('credentials');
      setError(field, err.message);
      fields[field].input.focus();
    } else {
      showError(err.message);
      code.clear();
      code.focus();
    }
  }

  function showResult(result: RotateResult): void {
    step = 'result';
    title.textContent = `“${result.key.label}” rotated`;
    resultPanel.replaceChildren(
      h(
        'div',
        { id: 'rotate-result', class: 'notice notice-ok', tabindex: -1 },
        h(
          'p',
          {},
          h('strong', {}, 'New key saved. '),
          `“${result.key.label}” now uses `,
          h('code', { class: 'key-hint', id: 'rotate-result-hint' }, result.key.keyHint),
          '.',
        ),
        h(
          'p',
          {},
          'The old key ',
          h('code', { class: 'key-hint' }, key.keyHint),
          ' was retired: the report below says what happened to it.',
        ),
      ),
      renderRevokeReport(result.report, showError),
    );
    sync();
    document.getElementById('rotate-result')?.focus();
  }

  function close(): void {
    if (closed) return;
    closed = true;
    check.cancel();
    wipeInputs();
    code.clear();
    modal.close();
    opts.onClosed?.(rotated);
  }

  function cancel(): void {
    if (!busy) close();
  }

  // ---- events -------------------------------------------------------------------------------------

  for (const f of CREDENTIAL_FIELDS) fields[f].input.addEventListener('input', () => setError(f, null));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (step === 'confirm') void confirm();
    else next();
  });
  root.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.isComposing || ev.defaultPrevented) return;
    const t = ev.target;
    if (!(t instanceof HTMLInputElement) || t.type === 'checkbox' || t === code.input) return;
    ev.preventDefault();
    next();
  });
  cancelBtn.addEventListener('click', cancel);
  backBtn.addEventListener('click', back);
  nextBtn.addEventListener('click', next);
  confirmBtn.addEventListener('click', () => void confirm());
  doneBtn.addEventListener('click', close);
  retryBtn.addEventListener('click', () => {
    if (busy) return;
    if (fixField) setError(fixField, null);
    void startCheck();
    checkRegion.focus();
  });
  fixBtn.addEventListener('click', () => {
    if (busy || !fixField) return;
    const f = fixField;
    goTo('credentials');
    fields[f].input.focus();
  });
  unverifiedBtn.addEventListener('click', () => {
    if (busy || check.state !== 'failed') return;
    verify = false;
    goTo('confirm');
  });

  sync();
  fields.apiKey.input.focus();

  return {
    element: root,
    get step() {
      return step;
    },
    get checkState() {
      return check.state;
    },
    close: cancel,
  };
}

/** Drops the payload's references to the secret strings (see the wizard's `wipe`). */
function wipe(input: RotateInput): void {
  input.apiKey = '';
  input.apiSecret = '';
  input.passphrase = null;
}
