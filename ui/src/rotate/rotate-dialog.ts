// Guided rotation (`#rotate-dialog[data-step]`): replace a key with a new one from the same exchange,
// under the same label.
//   1. credentials (./credentials) — the new API key, secret and (if the exchange has one)
//      passphrase, checked like the Add key wizard's;
//   2. check (./check-step, ./changes) — `inspect_rotation`: what the exchange reports about the new key, Rust's findings, and
//      how it differs from the old key (`.change[data-code][data-severity]`). A high or critical
//      change must be acknowledged (`#rotate-ack`). If the check fails: retry, or the quiet
//      "Continue without verifying" (then `verify: false`);
//   3. confirm (./confirm-step) — one 2FA code (`#guard-code`) and `#rotate-confirm` → `rotate_key`;
//   4. result (./result) — the new key, and the old key's retirement report (`#revoke-report`).
//
// Secrets live only in the three password inputs, as in the wizard: each call gets a short-lived
// payload whose fields are blanked as soon as Rust answers, and the inputs are emptied after a
// successful rotation and whenever the dialog closes.

import { inspectRotation, rotateKey, toIpcError } from '../api/commands';
import type { IpcError, KeyView, RotateInput, RotateResult } from '../api/types';
import { exchangeName } from '../dashboard/format';
import { codeField } from '../guard/code-field';
import { h } from '../lib/dom';
import { FieldErrors } from '../lib/field-errors';
import { openModal } from '../lib/modal';
import type { CheckState } from '../lib/exchange-check';
import { Stepper } from '../lib/stepper';
import { checkStep } from './check-step';
import { confirmStep } from './confirm-step';
import { CREDENTIAL_FIELDS, newKeyFields, type CredentialField } from './credentials';
import { renderRotateResult } from './result';

export { PROMINENT_CHANGES, needsAck, sortChanges } from './changes';

export type RotateStep = 'credentials' | 'check' | 'confirm' | 'result';
const STEPS: readonly RotateStep[] = ['credentials', 'check', 'confirm', 'result'];
const STEP_TITLES: Record<RotateStep, string> = { credentials: 'New key', check: 'Check', confirm: 'Confirm', result: 'Done' };

export type { CheckState } from '../lib/exchange-check';

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

export function openRotateDialog(opts: RotateDialogOptions): RotateDialog {
  const key = opts.key;
  const now = opts.now ?? (() => new Date());
  const ex = exchangeName(key.exchange);
  let step: RotateStep = 'credentials';
  let verify = true;
  let busy = false;
  let closed = false;
  let rotated = false;
  /** The check found changes that need the acknowledgement. */
  let ackRequired = false;
  let fixField: CredentialField | null = null;

  // ---- fields and the check ----------------------------------------------------------------------

  const errors = new FieldErrors<CredentialField | 'ack'>(
    (field) => (field === 'ack' ? checked.ack : fields[field].input),
    'rotate-error-',
  );
  const errorEl = (field: CredentialField | 'ack'): HTMLElement => errors.el(field);
  const newKey = newKeyFields(key, ex, errorEl);
  const { fields } = newKey;
  const setError = (field: CredentialField | 'ack', message: string | null): void => errors.set(field, message);
  const clearErrors = (): void => errors.clear();

  const checked = checkStep(key, ex, errorEl('ack'), () => sync());
  const { check, ack, retryBtn, fixBtn, unverifiedBtn } = checked;
  ack.addEventListener('change', () => setError('ack', null));

  const showChecked = (result: Parameters<typeof checked.showChecked>[0]): void => {
    setError('ack', null);
    ackRequired = checked.showChecked(result, now());
  };

  const showCheckFailure = (err: IpcError): void => {
    fixField = CREDENTIAL_FIELDS.find((f) => f === err.field) ?? null;
    if (fixField) setError(fixField, err.message);
    ackRequired = false;
    checked.showFailure(err, fixField);
  };

  const startCheck = async (): Promise<void> => {
    if (closed) return;
    const input = newKey.read();
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
  const confirmPanel = confirmStep(key, ex, code);
  const errorBox = h('p', { id: 'rotate-error', class: 'card-error dialog-error', role: 'alert', hidden: true });
  const showError = (message: string | null): void => {
    errorBox.textContent = message ?? '';
    errorBox.hidden = !message;
  };

  // ---- panels -------------------------------------------------------------------------------------

  const resultPanel = h('section', { class: 'panel', 'data-panel': 'result', hidden: true });
  const panels: Record<RotateStep, HTMLElement> = {
    credentials: newKey.panel,
    check: h('section', { class: 'panel', 'data-panel': 'check', hidden: true }, check.region),
    confirm: confirmPanel.panel,
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
      if (s === 'credentials') check.show('idle');
    }
    step = s;
    showError(null);
    if (s !== 'credentials') newKey.hide();
    if (s === 'check' && recheck) void startCheck();
    if (s === 'confirm') {
      confirmPanel.fill(fields.apiKey.input.value, verify);
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
              : check.region
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
      const found = newKey.errors() as { field: CredentialField; message: string }[];
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
    if (newKey.errors().length) {
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
    let input: RotateInput | null = newKey.read();
    busy = true;
    sync();
    try {
      const result = await rotateKey(key.id, input, c, verify);
      wipe(input);
      input = null;
      busy = false;
      rotated = true;
      newKey.wipe();
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
    resultPanel.replaceChildren(...renderRotateResult(result, key, showError));
    sync();
    document.getElementById('rotate-result')?.focus();
  }

  function close(): void {
    if (closed) return;
    closed = true;
    check.cancel();
    newKey.wipe();
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
    check.region.focus();
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
