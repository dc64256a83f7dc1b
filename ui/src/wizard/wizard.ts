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
// Cancel and Escape ask before throwing away typed credentials (`#discard-dialog`): the exchange shows
// a secret only once. The environment and base URL of the last key saved are offered again.
//
// First use: when 2FA is not set up (and the user has not chosen to go without it), the step after
// saving is 2FA enrolment, the same flow as the 2FA dialog (`runEnrollment`). It has no Cancel: it
// ends when 2FA is on, or with the explicit "Skip 2FA for now" after ticking what that leaves
// unguarded (recorded in Rust, so the wizard does not ask after every key).

import { addKey, inspectCredentials, skipGuardSetup, toIpcError } from '../api/commands';
import { EXCHANGE_FORMS, exchangeForm, exchangeName as nameOf } from '../api/exchanges';
import {
  isKeyField,
  type AddKeyInput,
  type Environment,
  type Exchange,
  type KeyField,
  type InspectInput,
  type InspectResult,
  type IpcError,
  type KeyView,
} from '../api/types';
import { runEnrollment, type EnrollFlow } from '../guard/enroll';
import { SKIP_2FA_ACCEPTANCE } from '../guard/guarded';
import type { Banner } from '../lib/banner';
import { askConfirm } from '../lib/confirm';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import { accountText, expiryText, ipText } from '../lib/risk';
import { renderFindings, renderPermissions } from '../lib/risk-view';
import { FieldErrors } from '../lib/field-errors';
import { ExchangeCheck } from '../lib/exchange-check';
import { Stepper } from '../lib/stepper';
import { secretField } from './secret-field';
import {
  DEFAULT_ROTATION_DAYS,
  STEPS,
  STEP_OF_FIELD,
  emptyDraft,
  maskHint,
  needsPassphrase,
  toAddKeyInput,
  toInspectInput,
  validateStep,
  type Draft,
  type EnvironmentKind,
  type FieldError,
  type Step,
} from './validate';

export interface WizardOptions {
  banner: Banner;
  /** Labels already in use, for the early uniqueness check (Rust checks again). */
  takenLabels?: () => readonly string[];
  /** Defaults to the `add_key` command. */
  save?: (input: AddKeyInput) => Promise<KeyView>;
  /** Defaults to the `inspect_credentials` command. */
  inspect?: (input: InspectInput) => Promise<InspectResult>;
  onSaved?: (record: KeyView) => void;
  /** The clock, for expiry texts. */
  now?: () => Date;
  /** The rotation field's starting value: the saved default policy (90 days if unknown). */
  defaultRotationDays?: number;
  /** Where focus goes when the wizard closes, if it was not opened from a focused control. */
  returnFocus?: () => HTMLElement | null;
  /** Called once the dialog is gone, saved or not. */
  onClosed?: () => void;
  /** Whether the step after saving is 2FA enrolment (2FA off, and not skipped). Asked when the
   * wizard opens (for the step list) and again after the save. */
  enrolAfterSave?: () => boolean;
  /** 2FA was set up, or skipped, in the wizard's last step. */
  onGuardChanged?: () => void;
  /** The environment to start with: the last key's (its base URL too), offered again. */
  environment?: Environment;
}

/** The wizard's steps: the form's, then (first use) 2FA enrolment. */
export type WizardStep = Step | '2fa';

export interface Wizard {
  readonly element: HTMLElement;
  readonly step: WizardStep;
  goTo(step: Step): void;
  next(): void;
  back(): void;
  /** Save with `verify: true` (only once the exchange check succeeded). */
  save(): Promise<void>;
  /** The deliberate "Save without verifying" (only after the check failed). */
  saveUnverified(): Promise<void>;
  /** Runs the exchange check again (confirm step). */
  retryVerify(): Promise<void>;
  readonly verifyState: VerifyState;
  close(): void;
}

/** The confirm step's exchange check, mirrored in `#verify-result[data-state]` (idle: not shown). */
export type VerifyState = 'idle' | 'checking' | 'ok' | 'failed';

const FIELD_NAMES: Partial<Record<KeyField, string>> = {
  apiKey: 'API key',
  apiSecret: 'secret key',
  passphrase: 'passphrase',
  baseUrl: 'base URL',
  label: 'label',
};

const STEP_TITLES: Record<Step, string> = {
  exchange: 'Exchange',
  credentials: 'Credentials',
  details: 'Details',
  confirm: 'Confirm',
};

const KEY_HELP = 'Copy it from the API management page of the exchange.';
const SECRET_HELP = 'The secret the exchange showed once, when you created the key.';
const labelExample = (ex: Exchange): string => `e.g. ${ex}-bot-main`;

const ENV_OPTIONS: readonly [EnvironmentKind, string][] = [
  ['live', 'Live'],
  ['demo', 'Demo / testnet'],
  ['custom', 'Custom base URL'],
];

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

  // ---- fields ---------------------------------------------------------------------------------

  // The exchange's error marks every radio card and focuses the chosen one (or the first).
  const errors = new FieldErrors<KeyField>((field) =>
    field === 'exchange' ? [...radios].sort((a, b) => Number(b.checked) - Number(a.checked)) : fieldInput(field),
  );
  const errorEl = (field: KeyField): HTMLElement => errors.el(field);

  const secretInput = (id: string, name: KeyField, label: string, helpText: string) =>
    secretField(id, name, label, helpText, errorEl(name));

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
  const exchangeCards = EXCHANGE_FORMS.map(({ id, name, blurb, capabilities }, i) =>
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
        h('span', { class: 'radio-card-blurb radio-card-caps', id: `exchange-${id}-caps` }, capabilities.revoke),
      ),
    ),
  );

  const apiKey = secretInput('api-key', 'apiKey', 'API key', KEY_HELP);
  const apiSecret = secretInput('api-secret', 'apiSecret', 'Secret key', '');
  const passphrase = secretInput('passphrase', 'passphrase', 'Passphrase', '');
  const secrets = [apiKey, apiSecret, passphrase];

  const labelInput = h('input', {
    id: 'label',
    name: 'label',
    type: 'text',
    maxlength: 200,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: EXCHANGE_FORMS[0] ? labelExample(EXCHANGE_FORMS[0].id) : '',
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
  // "Bots may use this key": on by default (a bot's key should just work with `latchkey run`).
  const botsInput = h('input', {
    id: 'bots-allowed',
    name: 'botsAllowed',
    type: 'checkbox',
    checked: true,
    'aria-describedby': 'bots-help',
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

  // ---- summary ----------------------------------------------------------------------------------

  const summary = {
    exchange: h('dd', { id: 'summary-exchange' }),
    label: h('dd', { id: 'summary-label' }),
    environment: h('dd', { id: 'summary-environment' }),
    hint: h('dd', { id: 'summary-hint', class: 'mono' }),
    rotation: h('dd', { id: 'summary-rotation' }),
  };
  const row = (term: string, dd: HTMLElement) => h('div', { class: 'summary-row' }, h('dt', {}, term), dd);

  // ---- the exchange check (confirm step) -------------------------------------------------------------

  const check = new ExchangeCheck({
    id: 'verify-result',
    titleId: 'verify-title',
    hideWhenIdle: true,
    onChange: () => syncButtons(),
  });
  const verifyResult = check.region;
  const retryBtn = h('button', { type: 'button', id: 'wizard-retry-verify', class: 'btn btn-secondary' }, 'Try again');
  const unverifiedBtn = h(
    'button',
    { type: 'button', id: 'wizard-save-unverified', class: 'btn btn-quiet btn-unverified' },
    'Save without verifying',
  );
  const fixFieldBtn = h('button', { type: 'button', id: 'wizard-fix-field', class: 'btn btn-quiet' });
  let fixField: KeyField | null = null;

  // ---- panels -----------------------------------------------------------------------------------

  const panels: Record<Step, HTMLElement> = {
    exchange: h(
      'section',
      { class: 'panel', 'data-panel': 'exchange', 'aria-labelledby': 'exchange-legend' },
      h(
        'fieldset',
        { class: 'radio-cards', 'aria-describedby': 'error-exchange' },
        h('legend', { id: 'exchange-legend' }, 'Which exchange is this key from?'),
        ...exchangeCards,
      ),
      errorEl('exchange'),
    ),
    credentials: h(
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
    ),
    details: h(
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
    ),
    confirm: h(
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
      verifyResult,
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
    ),
  };

  // ---- chrome -----------------------------------------------------------------------------------

  // First use: enrolment is announced as the last step from the start, so it is no surprise.
  const stepper = new Stepper<Step | '2fa'>(
    opts.enrolAfterSave?.() ? [...STEPS, '2fa'] : STEPS,
    { ...STEP_TITLES, '2fa': '2FA' },
    'wizard-step-status',
  );
  const enrolPanel = h('section', { class: 'panel', 'data-panel': '2fa', id: 'wizard-2fa', hidden: true });
  const cancelBtn = h('button', { type: 'button', id: 'wizard-cancel', class: 'btn btn-quiet' }, 'Cancel');
  const backBtn = h('button', { type: 'button', id: 'wizard-back', class: 'btn btn-secondary' }, 'Back');
  const nextBtn = h('button', { type: 'button', id: 'wizard-next', class: 'btn btn-primary' }, 'Next');
  const saveBtn = h('button', { type: 'button', id: 'wizard-save', class: 'btn btn-primary' }, 'Save key');
  const title = h('h2', { id: 'wizard-title' }, 'Add a key');
  const form = h('form', { class: 'wizard-form', novalidate: true, autocomplete: 'off' }, ...STEPS.map((s) => panels[s]));
  const bannerSlot = h('div', { class: 'banner-slot' });
  const footer = h('div', { class: 'dialog-footer' }, cancelBtn, h('span', { class: 'spacer' }), backBtn, nextBtn, saveBtn);

  const modal = openModal(
    {
      id: 'wizard',
      labelledBy: 'wizard-title',
      describedBy: 'wizard-step-status',
      className: 'wizard',
      onEscape: () => cancel(),
      returnFocus: opts.returnFocus,
      onWindowClose: () => {
        if (flow) close();
      },
    },
    h('div', { class: 'dialog-header' }, title, stepper.list),
    stepper.status,
    bannerSlot,
    form,
    enrolPanel,
    footer,
  );
  const root = modal.dialog;
  opts.banner.clear();
  opts.banner.mountIn(bannerSlot);

  // ---- state <-> DOM ----------------------------------------------------------------------------

  const selectedExchange = (): Exchange | null => (radios.find((r) => r.checked)?.value as Exchange | undefined) ?? null;

  /** The draft as currently typed. Holds secrets only for as long as the caller keeps it. */
  const readDraft = (): Draft => ({
    ...emptyDraft(),
    exchange: selectedExchange(),
    apiKey: apiKey.input.value,
    apiSecret: apiSecret.input.value,
    passphrase: needsPassphrase(selectedExchange()) ? passphrase.input.value : '',
    label: labelInput.value,
    rotationDays: rotationInput.value,
    environment: envSelect.value as EnvironmentKind,
    baseUrl: baseUrlInput.value,
  });

  const fieldInput = (field: KeyField): HTMLElement | null =>
    ({
      exchange: radios.find((r) => r.checked) ?? radios[0] ?? null,
      apiKey: apiKey.input,
      apiSecret: apiSecret.input,
      passphrase: passphrase.input,
      label: labelInput,
      rotationDays: rotationInput,
      baseUrl: baseUrlInput,
    })[field];

  const setError = (field: KeyField, message: string | null): void => errors.set(field, message);
  const clearErrors = (): void => errors.clear();
  const showErrors = (found: readonly FieldError[]): void => errors.show(found);

  const syncExchange = (): void => {
    const ex = selectedExchange();
    const hasPassphrase = needsPassphrase(ex);
    passphrase.row.hidden = !hasPassphrase;
    if (!hasPassphrase) {
      passphrase.input.value = '';
      setError('passphrase', null);
    }
    const form = ex ? exchangeForm(ex) : undefined;
    apiKey.input.placeholder = form?.apiKey.placeholder ?? '';
    apiKey.help.textContent = form?.apiKey.hint ?? KEY_HELP;
    apiSecret.input.placeholder = form?.apiSecret.placeholder ?? '';
    apiSecret.help.textContent = form?.apiSecret.hint ?? SECRET_HELP;
    passphrase.help.textContent = `The passphrase you chose when you created the key on ${exchangeName()}.`;
    if (ex) labelInput.placeholder = labelExample(ex);
    title.textContent = form ? `Add ${form.article} ${form.name} key` : 'Add a key';
  };

  const syncEnvironment = (): void => {
    const custom = envSelect.value === 'custom';
    baseUrlRow.hidden = !custom;
    if (!custom) setError('baseUrl', null);
  };

  const fillSummary = (): void => {
    const d = readDraft();
    summary.exchange.textContent = d.exchange ? nameOf(d.exchange) : '';
    summary.label.textContent = d.label.trim();
    summary.environment.textContent =
      d.environment === 'custom' ? `Custom: ${d.baseUrl.trim()}` : d.environment === 'demo' ? 'Demo / testnet' : 'Live';
    summary.hint.textContent = maskHint(d.apiKey);
    summary.rotation.textContent = `Every ${Number(d.rotationDays.trim())} days`;
  };

  const hideSecrets = (): void => {
    for (const s of secrets) {
      s.input.type = 'password';
      s.toggle.setAttribute('aria-pressed', 'false');
    }
  };

  const render = (): void => {
    if (step === '2fa') return;
    root.setAttribute('data-step', step);
    const index = STEPS.indexOf(step);
    for (const s of STEPS) panels[s].hidden = s !== step;
    stepper.show(step);
    backBtn.hidden = index === 0;
    nextBtn.hidden = step === 'confirm';
    saveBtn.hidden = step !== 'confirm';
    if (step !== 'credentials') hideSecrets();
    syncButtons();
  };

  /** Save needs a successful check; while saving, nothing else can be pressed. */
  const syncButtons = (): void => {
    for (const b of [cancelBtn, backBtn, retryBtn, unverifiedBtn, fixFieldBtn]) b.disabled = saving;
    saveBtn.disabled = saving || check.state !== 'ok';
    saveBtn.setAttribute('aria-describedby', 'verify-title');
    root.setAttribute('aria-busy', String(saving || check.state === 'checking'));
  };

  const focusStep = (): void => {
    const target: HTMLElement | null | undefined =
      step === 'exchange'
        ? (radios.find((r) => r.checked) ?? radios[0])
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
      fillSummary();
      void startVerify();
    } else {
      check.cancel();
      setVerify('idle');
    }
    render();
    focusStep();
  };

  // ---- the exchange check -----------------------------------------------------------------------

  const exchangeName = (): string => {
    const ex = selectedExchange();
    return ex ? nameOf(ex) : 'the exchange';
  };

  const setVerify = (state: VerifyState, ...content: (Node | null)[]): void => check.show(state, ...content);

  const showInspection = ({ inspection, findings }: InspectResult): void => {
    const expiry = expiryText(inspection.expiresAt, now());
    setVerify(
      'ok',
      h(
        'div',
        { class: 'verify-head' },
        h('span', { class: 'verify-mark', 'aria-hidden': 'true' }),
        h('h3', { id: 'verify-title' }, `Verified with ${exchangeName()}${inspection.demo ? ' (demo)' : ''}`),
      ),
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

  /** The exchange's message, here and (if it names a credential) under that field too. The values
   * are kept: the user may still choose to save without verifying. */
  const showVerifyFailure = (err: IpcError): void => {
    fixField = err.field && isKeyField(err.field) ? err.field : null;
    if (fixField) {
      setError(fixField, err.message);
      fixFieldBtn.textContent = `Edit the ${FIELD_NAMES[fixField] ?? fixField}`;
    }
    setVerify(
      'failed',
      h(
        'div',
        { class: 'verify-head' },
        h('span', { class: 'verify-mark', 'aria-hidden': 'true' }),
        h('h3', { id: 'verify-title' }, `Could not verify with ${exchangeName()}`),
      ),
      h('p', { class: 'verify-error', id: 'verify-error', 'data-code': err.code ?? err.kind }, err.message),
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

  /** Asks the exchange about the credentials as typed. The payload is blanked once it answers; an
   * answer that arrives after the user moved on (or closed) is dropped. */
  const startVerify = (): Promise<void> => {
    if (closed) return Promise.resolve();
    let input: InspectInput | null;
    try {
      input = toInspectInput(readDraft());
    } catch {
      check.cancel();
      setVerify('idle');
      return Promise.resolve();
    }
    const payload = input;
    return check.run(
      `Checking with ${exchangeName()}…`,
      'Latchkey asks the exchange what this key may do. Nothing is saved yet.',
      () => inspect(payload),
      {
        done: () => wipe(payload),
        wanted: () => !closed,
        answered: (result) => {
          showInspection(result);
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

  const wipeSecretInputs = (): void => {
    for (const s of secrets) s.input.value = '';
    hideSecrets();
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    check.cancel();
    wipeSecretInputs();
    // A begun, unconfirmed enrolment is dropped in Rust (the flow's close does it).
    const f = flow;
    flow = null;
    f?.close();
    opts.banner.clear();
    modal.close();
    opts.onClosed?.();
  };

  /** Something secret was typed: closing would lose it (the exchange shows a secret only once). */
  const typedCredentials = (): boolean => secrets.some((s) => s.input.value !== '');

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
    void askConfirm({
      id: 'discard-dialog',
      title: 'Discard the key you typed?',
      body: [
        h(
          'p',
          {},
          'The credentials you typed are not saved yet. Closing the wizard throws them away, and the exchange shows a secret only once, when the key is created.',
        ),
      ],
      confirmLabel: 'Discard',
      cancelLabel: 'Keep editing',
      danger: true,
    }).then((discard) => {
      asking = false;
      if (discard) close();
    });
  };

  // ---- first use: 2FA enrolment as the last step ---------------------------------------------------

  const showEnrolStep = (): void => {
    step = '2fa';
    root.setAttribute('data-step', '2fa');
    for (const s of STEPS) panels[s].hidden = true;
    form.hidden = true;
    stepper.show('2fa');
    title.textContent = 'Last step: set up two-factor authentication';
    const flowBody = h('div', { class: 'enroll-body', 'aria-live': 'polite' });
    const flowError = h('p', { class: 'card-error dialog-error', role: 'alert', hidden: true });
    const accept = h('input', { type: 'checkbox', id: 'skip-2fa-accept' });
    const skip = h('button', { type: 'button', id: 'skip-2fa', class: 'btn btn-quiet', disabled: true }, 'Skip 2FA for now');
    accept.addEventListener('change', () => {
      skip.disabled = !accept.checked;
    });
    skip.addEventListener('click', () => {
      if (!accept.checked || skip.disabled) return;
      skip.disabled = true;
      skipGuardSetup(SKIP_2FA_ACCEPTANCE).then(
        () => {
          opts.onGuardChanged?.();
          close();
        },
        (raw: unknown) => {
          skip.disabled = !accept.checked;
          opts.banner.show(toIpcError(raw).message);
        },
      );
    });
    enrolPanel.replaceChildren(
      h(
        'p',
        { class: 'panel-intro', id: 'wizard-2fa-intro' },
        'Your key is saved. Set up 2FA now, before an emergency: revealing, copying, rotating, deleting and revoking keys then ask for a code from your phone, so nobody else at this computer can.',
      ),
      flowBody,
      flowError,
      h('p', { class: 'skip-2fa field-check' }, h('label', { for: 'skip-2fa-accept' }, accept, ' ', SKIP_2FA_ACCEPTANCE)),
    );
    enrolPanel.hidden = false;
    flow = runEnrollment(
      {
        root: enrolPanel,
        title,
        body: flowBody,
        errorBox: flowError,
        footer,
        cancellable: false,
        leading: () => [skip],
        dispose: () => close(),
      },
      {
        reenroll: false,
        onClosed: (enrolled) => {
          if (enrolled) opts.onGuardChanged?.();
        },
      },
    );
  };

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
    let input: AddKeyInput | null = toAddKeyInput(readDraft(), verify, botsInput.checked);
    setBusy(true, verify);
    try {
      const record = await save(input);
      wipe(input);
      input = null;
      wipeSecretInputs();
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

  radios.forEach((r) =>
    r.addEventListener('change', () => {
      setError('exchange', null);
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
    el.addEventListener('input', () => setError(field, null));
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (step === 'confirm') void doSave(true);
    else next();
  });
  // Enter moves on from any field; on buttons Enter keeps its usual meaning (activate the button).
  root.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.isComposing || ev.defaultPrevented) return;
    const t = ev.target;
    if (t instanceof HTMLButtonElement || t instanceof HTMLTextAreaElement) return;
    if (!(t instanceof HTMLInputElement || t instanceof HTMLSelectElement)) return;
    ev.preventDefault();
    if (step === 'confirm') void doSave(true);
    else next();
  });
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

  syncExchange();
  syncEnvironment();
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
}
