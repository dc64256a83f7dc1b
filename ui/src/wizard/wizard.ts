// The Add key wizard: exchange → credentials → details → confirm, in a modal dialog. On the confirm
// step the credentials are checked with the exchange (`inspect_credentials`) and what it reports is
// shown: permissions, IP whitelist, expiry, account and Rust's risk findings. Save then sends
// `verify: true`; when the check fails, saving needs the explicit "Save without verifying".
//
// Secrets live only in the three password inputs. They are read into a short-lived payload when the
// user presses Save, the payload's fields are blanked as soon as Rust answers, and the inputs are
// emptied after a successful save and whenever the wizard closes. Nothing secret is ever rendered:
// the summary shows a masked hint computed here, the way Rust computes it.
//
// Cancel and Escape ask before throwing away typed credentials (./discard). The environment and
// base URL of the last key saved are offered again. First use: the step after saving may be 2FA
// enrolment (./first-use-2fa). Each step is built in its own module (./exchange-step,
// ./credentials-step, ./details-step, ./confirm-step) inside ./frame; this one moves between them,
// runs the exchange check and saves.

import { addKey, inspectCredentials, toIpcError } from '../api/commands';
import { exchangeName as nameOf } from '../api/exchanges';
import { isKeyField, type AddKeyInput, type KeyField, type InspectInput, type IpcError } from '../api/types';
import type { EnrollFlow } from '../guard/enroll';
import { h } from '../lib/dom';
import { askDiscard } from './discard';
import { runEnrolStep } from './first-use-2fa';
import { wizardFrame } from './frame';
import { wizardSteps } from './steps';
import type { Wizard, WizardOptions, WizardStep } from './options';
import { STEPS, STEP_OF_FIELD, toAddKeyInput, toInspectInput, validateStep, type FieldError, type Step } from './validate';

export type { VerifyState, Wizard, WizardOptions, WizardStep } from './options';

export function openWizard(opts: WizardOptions): Wizard {
  const save = opts.save ?? addKey;
  const inspect = opts.inspect ?? inspectCredentials;
  const now = opts.now ?? (() => new Date());
  let step: WizardStep = 'exchange';
  /** The first-use enrolment, while it is the wizard's step. */
  let flow: EnrollFlow | null = null;
  /** The "discard what you typed?" question is open. */
  let asking = false;
  let saving = false;
  let closed = false;

  // ---- steps ------------------------------------------------------------------------------------

  const title = h('h2', { id: 'wizard-title' }, 'Add a key');
  const steps = wizardSteps({
    defaultRotationDays: opts.defaultRotationDays,
    environment: opts.environment,
    onCheckChange: () => syncButtons(),
    onExchange: (f) => {
      title.textContent = f ? `Add ${f.article} ${f.name} key` : 'Add a key';
    },
    onMint: opts.onMint
      ? () => {
          close();
          opts.onMint?.();
        }
      : undefined,
  });
  const { panels, errors, exchange, creds, confirm, readDraft, fieldInput } = steps;
  const { apiKey } = creds;
  const { labelInput } = steps.details;
  const { check, retryBtn, unverifiedBtn, fixFieldBtn } = confirm;
  const verifyResult = check.region;
  let fixField: KeyField | null = null;

  // ---- the frame -------------------------------------------------------------------------------

  const frame = wizardFrame({
    title,
    panels,
    enrolStep: !!opts.enrolAfterSave?.(),
    onEscape: () => cancel(),
    returnFocus: opts.returnFocus,
    onWindowClose: () => {
      if (flow) close();
    },
    onEnter: () => {
      if (step === 'confirm') void doSave(true);
      else next();
    },
  });
  const { root, cancelBtn, backBtn, nextBtn, saveBtn } = frame;
  opts.banner.clear();
  opts.banner.mountIn(frame.bannerSlot);

  // ---- state <-> DOM ----------------------------------------------------------------------------

  const selectedExchange = (): ReturnType<typeof exchange.selected> => exchange.selected();
  const setError = (field: KeyField, message: string | null): void => errors.set(field, message);
  const clearErrors = (): void => errors.clear();
  const showErrors = (found: readonly FieldError[]): void => errors.show(found);

  const render = (): void => {
    if (step === '2fa') return;
    frame.show(step);
    if (step !== 'credentials') creds.hide();
    syncButtons();
  };

  const syncButtons = (): void => frame.syncButtons(saving, check.state, [retryBtn, unverifiedBtn, fixFieldBtn]);

  const focusStep = (): void => {
    const target: HTMLElement | null | undefined =
      step === 'exchange'
        ? (exchange.radios.find((r) => r.checked) ?? exchange.radios[0])
        : step === 'credentials'
          ? apiKey.input
          : step === 'details'
            ? labelInput
            : check.state === 'ok'
              ? saveBtn
              : check.state === 'failed'
                ? retryBtn
                : verifyResult;
    target?.focus();
  };

  const goTo = (s: Step): void => {
    step = s;
    if (s === 'confirm') {
      confirm.fill(readDraft(), exchangeName());
      void startVerify();
    } else {
      check.cancel();
      check.show('idle');
    }
    render();
    focusStep();
  };

  // ---- the exchange check -----------------------------------------------------------------------

  const exchangeName = (): string => {
    const ex = selectedExchange();
    return ex ? nameOf(ex) : 'the exchange';
  };

  /** The exchange's message, here and (if it names a credential) under that field too. The values
   * are kept: the user may still choose to save without verifying. */
  const showVerifyFailure = (err: IpcError): void => {
    fixField = err.field && isKeyField(err.field) ? err.field : null;
    if (fixField) setError(fixField, err.message);
    confirm.showFailure(err, exchangeName(), fixField);
  };

  /** Asks the exchange about the credentials as typed. The payload is blanked once it answers; an
   * answer that arrives after the user moved on (or closed) is dropped. */
  const startVerify = (): Promise<void> => {
    if (closed) return Promise.resolve();
    let input: InspectInput | null;
    try {
      input = toInspectInput(readDraft());
    } catch {
      check.cancel();
      check.show('idle');
      return Promise.resolve();
    }
    const payload = { ...input, exchangeCode: confirm.exchangeCode.read() };
    return check.run(
      `Checking with ${exchangeName()}…`,
      'Latchkey asks the exchange what this key may do. Nothing is saved yet.',
      () => inspect(payload),
      {
        done: () => wipe(payload),
        wanted: () => !closed,
        answered: (result) => {
          confirm.showInspection(result, exchangeName(), now());
          if (isFocusParked()) saveBtn.focus();
        },
        failed: (raw) => {
          showVerifyFailure(toIpcError(raw));
          if (isFocusParked()) retryBtn.focus();
        },
      },
    );
  };

  /** Focus is on the check's region, a button that just went away, or nowhere: safe to move it. */
  const isFocusParked = (): boolean => check.isFocusParked(unverifiedBtn);

  // ---- moving between steps -----------------------------------------------------------------------

  /** The first step, up to and including `last`, whose fields have errors. */
  const firstInvalid = (last: Step): { step: Step; errors: FieldError[] } | null => {
    const draft = readDraft();
    const taken = opts.takenLabels?.() ?? [];
    for (const s of STEPS.slice(0, STEPS.indexOf(last) + 1)) {
      const errors = validateStep(s, draft, taken);
      if (errors.length > 0) return { step: s, errors };
    }
    return null;
  };

  /** Validates every step so far (a later failure may have sent the user back); moves on if all is well. */
  const next = (): void => {
    if (saving || step === '2fa') return;
    clearErrors();
    const bad = firstInvalid(step);
    if (bad) {
      if (bad.step !== step) goTo(bad.step);
      showErrors(bad.errors);
      return;
    }
    const following = STEPS[STEPS.indexOf(step) + 1];
    if (following) goTo(following);
  };

  const back = (): void => {
    if (saving || step === '2fa') return;
    const i = STEPS.indexOf(step);
    if (i > 0) goTo(STEPS[i - 1]);
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    check.cancel();
    creds.wipe();
    // A begun, unconfirmed enrolment is dropped in Rust (the flow's close does it).
    const f = flow;
    flow = null;
    f?.close();
    opts.banner.clear();
    frame.modal.close();
    opts.onClosed?.();
  };

  /** Something secret was typed: closing would lose it (the exchange shows a secret only once). */
  const typedCredentials = (): boolean => creds.secrets.some((s) => s.input.value !== '');

  /** Cancel and Escape: on the 2FA step only its own ways out; elsewhere, typed credentials are
   * not thrown away without asking. */
  const cancel = (): void => {
    if (saving || asking || closed) return;
    if (step === '2fa') {
      if (flow && !flow.escape()) document.getElementById('skip-2fa-accept')?.focus();
      return;
    }
    if (!typedCredentials()) {
      close();
      return;
    }
    asking = true;
    void askDiscard().then((discard) => {
      asking = false;
      if (discard) close();
    });
  };

  /** First use: 2FA enrolment as the last step. */
  const showEnrolStep = (): void => {
    step = '2fa';
    frame.showEnrolStep();
    flow = runEnrolStep({
      panel: frame.enrolPanel,
      title,
      footer: frame.footer,
      banner: opts.banner,
      onGuardChanged: opts.onGuardChanged,
      close,
    });
  };

  // ---- saving -----------------------------------------------------------------------------------

  const setBusy = (busy: boolean, verify = true): void => {
    saving = busy;
    syncButtons();
    saveBtn.textContent = busy && verify ? 'Saving…' : 'Save key';
    unverifiedBtn.textContent = busy && !verify ? 'Saving…' : 'Save without verifying';
  };

  /** `verify: true` needs a successful check; `verify: false` is only offered once it has failed. */
  const doSave = async (verify: boolean): Promise<void> => {
    if (saving || closed || step !== 'confirm') return;
    if (check.state !== (verify ? 'ok' : 'failed')) return;
    clearErrors();
    opts.banner.clear();
    const bad = firstInvalid('confirm');
    if (bad) {
      goTo(bad.step);
      showErrors(bad.errors);
      return;
    }
    let input: AddKeyInput | null = {
      ...toAddKeyInput(readDraft(), verify, confirm.botsInput.checked),
      exchangeCode: verify ? confirm.exchangeCode.read() : null,
    };
    setBusy(true, verify);
    try {
      const record = await save(input);
      wipe(input);
      input = null;
      creds.wipe();
      setBusy(false);
      const enrolNext = !!opts.enrolAfterSave?.();
      if (!enrolNext) close();
      opts.onSaved?.(record);
      if (enrolNext && !closed) showEnrolStep();
    } catch (raw) {
      if (input) wipe(input);
      setBusy(false);
      showSaveError(toIpcError(raw));
    }
  };

  /** Rust's answer goes where the user can act on it. The exchange refusing the key (Rust checks
   * again on save) shows like a failed check. Otherwise: inline under the field it names (on that
   * field's step), or in the banner. A credential that fails Rust's own checks is cleared so it is
   * pasted again; the others are kept so a label clash does not cost a secret the exchange shows
   * only once. */
  const showSaveError = (err: IpcError): void => {
    if (err.kind === 'exchange') {
      showVerifyFailure(err);
      retryBtn.focus();
    } else if (err.field && isKeyField(err.field)) {
      const s = STEP_OF_FIELD[err.field];
      if (err.field === 'apiKey' || err.field === 'apiSecret' || err.field === 'passphrase') {
        (fieldInput(err.field) as HTMLInputElement).value = '';
      }
      goTo(s);
      showErrors([{ field: err.field, message: err.message }]);
    } else {
      opts.banner.show(err.message);
      saveBtn.focus();
    }
  };

  // ---- events -----------------------------------------------------------------------------------

  cancelBtn.addEventListener('click', cancel);
  backBtn.addEventListener('click', back);
  nextBtn.addEventListener('click', next);
  saveBtn.addEventListener('click', () => void doSave(true));
  retryBtn.addEventListener('click', () => {
    if (saving || step !== 'confirm') return;
    if (fixField) setError(fixField, null);
    opts.banner.clear();
    void startVerify();
    verifyResult.focus();
  });
  unverifiedBtn.addEventListener('click', () => void doSave(false));
  fixFieldBtn.addEventListener('click', () => {
    if (saving || !fixField) return;
    const f = fixField;
    goTo(STEP_OF_FIELD[f]);
    fieldInput(f)?.focus();
  });

  render();
  focusStep();

  return {
    element: root,
    get step() {
      return step;
    },
    goTo,
    next,
    back,
    save: () => doSave(true),
    saveUnverified: () => doSave(false),
    retryVerify: () => (step === 'confirm' && !saving ? startVerify() : Promise.resolve()),
    get verifyState() {
      return check.state;
    },
    close: cancel,
  };
}

/** Drops the payload's references to the secret strings (JS strings cannot be overwritten in place;
 * this is the most a web view can do, and it keeps the values from lingering in a live object). */
function wipe(input: AddKeyInput | InspectInput): void {
  input.apiKey = '';
  input.apiSecret = '';
  input.passphrase = null;
  input.exchangeCode = null;
}
