// The Add key wizard: exchange → credentials → details → confirm, in a modal dialog.
//
// Secrets live only in the three password inputs. They are read into a short-lived payload when the
// user presses Save, the payload's fields are blanked as soon as Rust answers, and the inputs are
// emptied after a successful save and whenever the wizard closes. Nothing secret is ever rendered:
// the summary shows a masked hint computed here, the way Rust computes it.

import { addKey, toIpcError } from '../api/commands';
import { EXCHANGES, EXCHANGE_NAMES, type AddKeyInput, type Exchange, type Field, type IpcError, type KeyRecord } from '../api/types';
import type { Banner } from '../lib/banner';
import { h, icon } from '../lib/dom';
import { openModal } from '../lib/modal';
import {
  DEFAULT_ROTATION_DAYS,
  STEPS,
  STEP_OF_FIELD,
  emptyDraft,
  maskHint,
  needsPassphrase,
  toAddKeyInput,
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
  save?: (input: AddKeyInput) => Promise<KeyRecord>;
  onSaved?: (record: KeyRecord) => void;
  /** Where focus goes when the wizard closes, if it was not opened from a focused control. */
  returnFocus?: () => HTMLElement | null;
  /** Called once the dialog is gone, saved or not. */
  onClosed?: () => void;
}

export interface Wizard {
  readonly element: HTMLElement;
  readonly step: Step;
  goTo(step: Step): void;
  next(): void;
  back(): void;
  save(): Promise<void>;
  close(): void;
}

const STEP_TITLES: Record<Step, string> = {
  exchange: 'Exchange',
  credentials: 'Credentials',
  details: 'Details',
  confirm: 'Confirm',
};

const EXCHANGE_BLURB: Record<Exchange, string> = {
  okx: 'API key, secret key and passphrase',
  bybit: 'API key and secret (HMAC)',
  binance: 'API key and secret key (HMAC)',
};

const KEY_PLACEHOLDER: Record<Exchange, string> = {
  okx: 'e.g. 37c541a1-…-10fe7a038418',
  bybit: '18 letters and digits',
  binance: '64 letters and digits',
};

const SECRET_HELP: Record<Exchange, string> = {
  okx: 'The 32-character secret key OKX showed once, when you created the key.',
  bybit: 'The secret Bybit showed once, when you created the key.',
  binance: 'The secret key Binance showed once, when you created the key.',
};

const ENV_OPTIONS: readonly [EnvironmentKind, string][] = [
  ['live', 'Live'],
  ['demo', 'Demo / testnet'],
  ['custom', 'Custom base URL'],
];

const EYE = ['M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z', 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z'];

export function openWizard(opts: WizardOptions): Wizard {
  const save = opts.save ?? addKey;
  let step: Step = 'exchange';
  let saving = false;
  let closed = false;

  // ---- fields ---------------------------------------------------------------------------------

  const errorEls = new Map<Field, HTMLElement>();
  const errorEl = (field: Field): HTMLElement => {
    const el = h('p', { class: 'field-error', id: `error-${field}`, 'data-error-for': field, hidden: true });
    errorEls.set(field, el);
    return el;
  };

  const secretInput = (id: string, name: Field, label: string, helpText: string) => {
    const input = h('input', {
      id,
      name,
      type: 'password',
      autocomplete: 'off',
      spellcheck: 'false',
      autocapitalize: 'off',
      autocorrect: 'off',
      'data-secret': true,
      'aria-describedby': `${id}-help error-${name}`,
    });
    const toggle = h('button', {
      type: 'button',
      class: 'reveal',
      'aria-pressed': 'false',
      'aria-label': `Show ${label.toLowerCase()}`,
      'aria-controls': id,
      title: 'Show or hide what you pasted',
    }, icon(EYE));
    toggle.addEventListener('click', () => {
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      toggle.setAttribute('aria-pressed', String(show));
      toggle.setAttribute('aria-label', `${show ? 'Hide' : 'Show'} ${label.toLowerCase()}`);
    });
    const help = h('p', { class: 'help', id: `${id}-help` }, helpText);
    const row = h('div', { class: 'field' }, h('label', { for: id }, label), h('div', { class: 'input-with-button' }, input, toggle), help, errorEl(name));
    return { input, toggle, help, row };
  };

  const radios = EXCHANGES.map((ex) =>
    h('input', { type: 'radio', name: 'exchange', value: ex, id: `exchange-${ex}`, class: 'radio-card-input', 'aria-describedby': `exchange-${ex}-blurb` }),
  );
  const exchangeCards = EXCHANGES.map((ex, i) =>
    h(
      'label',
      { class: 'radio-card', for: `exchange-${ex}` },
      radios[i]!,
      h('span', { class: 'radio-card-body' },
        h('span', { class: `exchange-mark exchange-${ex}`, 'aria-hidden': 'true' }, EXCHANGE_NAMES[ex].slice(0, 1)),
        h('span', { class: 'radio-card-title' }, EXCHANGE_NAMES[ex]),
        h('span', { class: 'radio-card-blurb', id: `exchange-${ex}-blurb` }, EXCHANGE_BLURB[ex]),
      ),
    ),
  );

  const apiKey = secretInput('api-key', 'apiKey', 'API key', 'Copy it from the API management page of the exchange.');
  const apiSecret = secretInput('api-secret', 'apiSecret', 'Secret key', '');
  const passphrase = secretInput('passphrase', 'passphrase', 'Passphrase', 'The passphrase you chose when you created the key on OKX.');
  const secrets = [apiKey, apiSecret, passphrase];

  const labelInput = h('input', {
    id: 'label',
    name: 'label',
    type: 'text',
    maxlength: 200,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'e.g. okx-bot-main',
    'aria-describedby': 'label-help error-label',
  });
  const rotationInput = h('input', {
    id: 'rotation-days',
    name: 'rotationDays',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    value: String(DEFAULT_ROTATION_DAYS),
    'aria-describedby': 'rotation-help error-rotationDays',
  });
  const envSelect = h('select', { id: 'environment', name: 'environment', 'aria-describedby': 'environment-help' },
    ...ENV_OPTIONS.map(([v, text]) => h('option', { value: v }, text)));
  const baseUrlInput = h('input', {
    id: 'base-url',
    name: 'baseUrl',
    type: 'url',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'https://… or http://127.0.0.1:port',
    'aria-describedby': 'base-url-help error-baseUrl',
  });
  const baseUrlRow = h('div', { class: 'field', hidden: true },
    h('label', { for: 'base-url' }, 'Base URL'),
    baseUrlInput,
    h('p', { class: 'help', id: 'base-url-help' }, 'https only; plain http is allowed for a local simulator on 127.0.0.1, ::1 or localhost.'),
    errorEl('baseUrl'),
  );

  // ---- summary ----------------------------------------------------------------------------------

  const summary = {
    exchange: h('dd', { id: 'summary-exchange' }),
    label: h('dd', { id: 'summary-label' }),
    environment: h('dd', { id: 'summary-environment' }),
    hint: h('dd', { id: 'summary-hint', class: 'mono' }),
    rotation: h('dd', { id: 'summary-rotation' }),
  };
  const row = (term: string, dd: HTMLElement) => h('div', { class: 'summary-row' }, h('dt', {}, term), dd);

  // ---- panels -----------------------------------------------------------------------------------

  const panels: Record<Step, HTMLElement> = {
    exchange: h('section', { class: 'panel', 'data-panel': 'exchange', 'aria-labelledby': 'exchange-legend' },
      h('fieldset', { class: 'radio-cards', 'aria-describedby': 'error-exchange' },
        h('legend', { id: 'exchange-legend' }, 'Which exchange is this key from?'),
        ...exchangeCards),
      errorEl('exchange'),
    ),
    credentials: h('section', { class: 'panel', 'data-panel': 'credentials', hidden: true },
      h('p', { class: 'panel-intro', id: 'credentials-intro' },
        'Paste the key exactly as the exchange shows it. It goes straight to your OS keychain; Latchkey keeps only a masked hint.'),
      apiKey.row, apiSecret.row, passphrase.row,
    ),
    details: h('section', { class: 'panel', 'data-panel': 'details', hidden: true },
      h('div', { class: 'field' },
        h('label', { for: 'label' }, 'Label'),
        labelInput,
        h('p', { class: 'help', id: 'label-help' }, 'A name you will recognise, up to 64 characters.'),
        errorEl('label'),
      ),
      h('div', { class: 'field field-short' },
        h('label', { for: 'rotation-days' }, 'Rotate every (days)'),
        rotationInput,
        h('p', { class: 'help', id: 'rotation-help' }, 'Latchkey reminds you when the key is due for rotation. 90 days is a good default.'),
        errorEl('rotationDays'),
      ),
      h('div', { class: 'field' },
        h('label', { for: 'environment' }, 'Environment'),
        envSelect,
        h('p', { class: 'help', id: 'environment-help' }, 'Live trading, the exchange’s demo/testnet, or your own base URL.'),
      ),
      baseUrlRow,
    ),
    confirm: h('section', { class: 'panel', 'data-panel': 'confirm', hidden: true },
      h('p', { class: 'panel-intro' }, 'Check the details, then save. The secret is written to your OS keychain and never shown again.'),
      h('dl', { class: 'summary' },
        row('Label', summary.label),
        row('Exchange', summary.exchange),
        row('Environment', summary.environment),
        row('API key', summary.hint),
        row('Rotation', summary.rotation),
      ),
    ),
  };

  // ---- chrome -----------------------------------------------------------------------------------

  const stepItems = STEPS.map((s, i) => h('li', { 'data-for': s }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, i + 1), STEP_TITLES[s]));
  const cancelBtn = h('button', { type: 'button', id: 'wizard-cancel', class: 'btn btn-quiet' }, 'Cancel');
  const backBtn = h('button', { type: 'button', id: 'wizard-back', class: 'btn btn-secondary' }, 'Back');
  const nextBtn = h('button', { type: 'button', id: 'wizard-next', class: 'btn btn-primary' }, 'Next');
  const saveBtn = h('button', { type: 'button', id: 'wizard-save', class: 'btn btn-primary' }, 'Save key');
  const title = h('h2', { id: 'wizard-title' }, 'Add a key');
  const stepStatus = h('p', { class: 'visually-hidden', id: 'wizard-step-status', 'aria-live': 'polite' });
  const form = h('form', { class: 'wizard-form', novalidate: true, autocomplete: 'off' }, ...STEPS.map((s) => panels[s]));
  const bannerSlot = h('div', { class: 'banner-slot' });
  const footer = h('div', { class: 'dialog-footer' }, cancelBtn, h('span', { class: 'spacer' }), backBtn, nextBtn, saveBtn);

  const modal = openModal(
    { id: 'wizard', labelledBy: 'wizard-title', describedBy: 'wizard-step-status', className: 'wizard', onEscape: () => cancel(), returnFocus: opts.returnFocus },
    h('div', { class: 'dialog-header' }, title, h('ol', { class: 'steps', 'aria-label': 'Steps' }, ...stepItems)),
    stepStatus,
    bannerSlot,
    form,
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

  const fieldInput = (field: Field): HTMLElement | null =>
    ({
      exchange: radios.find((r) => r.checked) ?? radios[0] ?? null,
      apiKey: apiKey.input,
      apiSecret: apiSecret.input,
      passphrase: passphrase.input,
      label: labelInput,
      rotationDays: rotationInput,
      baseUrl: baseUrlInput,
    })[field];

  const setError = (field: Field, message: string | null): void => {
    const el = errorEls.get(field);
    if (!el) return;
    el.textContent = message ?? '';
    el.hidden = !message;
    const input = fieldInput(field);
    if (field === 'exchange') {
      radios.forEach((r) => (message ? r.setAttribute('aria-invalid', 'true') : r.removeAttribute('aria-invalid')));
    } else if (input) {
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  };

  const clearErrors = (): void => errorEls.forEach((_, f) => setError(f, null));

  const showErrors = (errors: readonly FieldError[]): void => {
    for (const e of errors) setError(e.field, e.message);
    const first = errors[0];
    if (first) fieldInput(first.field)?.focus();
  };

  const syncExchange = (): void => {
    const ex = selectedExchange();
    const okx = needsPassphrase(ex);
    passphrase.row.hidden = !okx;
    if (!okx) {
      passphrase.input.value = '';
      setError('passphrase', null);
    }
    apiKey.input.placeholder = ex ? KEY_PLACEHOLDER[ex] : '';
    apiSecret.help.textContent = ex ? SECRET_HELP[ex] : 'The secret the exchange showed once, when you created the key.';
    title.textContent = ex ? `Add ${ex === 'okx' ? 'an' : 'a'} ${EXCHANGE_NAMES[ex]} key` : 'Add a key';
  };

  const syncEnvironment = (): void => {
    const custom = envSelect.value === 'custom';
    baseUrlRow.hidden = !custom;
    if (!custom) setError('baseUrl', null);
  };

  const fillSummary = (): void => {
    const d = readDraft();
    summary.exchange.textContent = d.exchange ? EXCHANGE_NAMES[d.exchange] : '';
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
    root.setAttribute('data-step', step);
    const index = STEPS.indexOf(step);
    STEPS.forEach((s, i) => {
      panels[s].hidden = s !== step;
      const li = stepItems[i]!;
      li.className = i < index ? 'done' : i === index ? 'current' : '';
      if (s === step) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    });
    backBtn.hidden = index === 0;
    nextBtn.hidden = step === 'confirm';
    saveBtn.hidden = step !== 'confirm';
    stepStatus.textContent = `Step ${index + 1} of ${STEPS.length}: ${STEP_TITLES[step]}`;
    if (step !== 'credentials') hideSecrets();
  };

  const focusStep = (): void => {
    const target: HTMLElement | null | undefined =
      step === 'exchange' ? (radios.find((r) => r.checked) ?? radios[0])
      : step === 'credentials' ? apiKey.input
      : step === 'details' ? labelInput
      : saveBtn;
    target?.focus();
  };

  const goTo = (s: Step): void => {
    step = s;
    if (s === 'confirm') fillSummary();
    render();
    focusStep();
  };

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
    if (saving) return;
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
    if (saving) return;
    const i = STEPS.indexOf(step);
    if (i > 0) goTo(STEPS[i - 1]!);
  };

  const wipeSecretInputs = (): void => {
    for (const s of secrets) s.input.value = '';
    hideSecrets();
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    wipeSecretInputs();
    opts.banner.clear();
    modal.close();
    opts.onClosed?.();
  };

  const cancel = (): void => {
    if (!saving) close();
  };

  const setBusy = (busy: boolean): void => {
    saving = busy;
    root.setAttribute('aria-busy', String(busy));
    for (const b of [cancelBtn, backBtn, saveBtn]) b.disabled = busy;
    saveBtn.textContent = busy ? 'Saving…' : 'Save key';
  };

  const doSave = async (): Promise<void> => {
    if (saving || closed) return;
    clearErrors();
    opts.banner.clear();
    const bad = firstInvalid('confirm');
    if (bad) {
      goTo(bad.step);
      showErrors(bad.errors);
      return;
    }
    let input: AddKeyInput | null = toAddKeyInput(readDraft());
    setBusy(true);
    try {
      const record = await save(input);
      wipe(input);
      input = null;
      wipeSecretInputs();
      setBusy(false);
      close();
      opts.onSaved?.(record);
    } catch (raw) {
      if (input) wipe(input);
      input = null;
      setBusy(false);
      showSaveError(toIpcError(raw));
    }
  };

  /** Rust's answer goes where the user can act on it: inline under the field it names (on that
   * field's step), otherwise in the banner. A rejected credential is cleared so it is pasted again;
   * the others are kept so a label clash does not cost a secret the exchange shows only once. */
  const showSaveError = (err: IpcError): void => {
    if (err.field) {
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

  radios.forEach((r) => r.addEventListener('change', () => {
    setError('exchange', null);
    syncExchange();
  }));
  envSelect.addEventListener('change', syncEnvironment);
  for (const [field, el] of [
    ['apiKey', apiKey.input], ['apiSecret', apiSecret.input], ['passphrase', passphrase.input],
    ['label', labelInput], ['rotationDays', rotationInput], ['baseUrl', baseUrlInput],
  ] as const) {
    el.addEventListener('input', () => setError(field, null));
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (step === 'confirm') void doSave();
    else next();
  });
  // Enter moves on from any field; on buttons Enter keeps its usual meaning (activate the button).
  root.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.isComposing || ev.defaultPrevented) return;
    const t = ev.target;
    if (t instanceof HTMLButtonElement || t instanceof HTMLTextAreaElement) return;
    if (!(t instanceof HTMLInputElement || t instanceof HTMLSelectElement)) return;
    ev.preventDefault();
    if (step === 'confirm') void doSave();
    else next();
  });
  cancelBtn.addEventListener('click', cancel);
  backBtn.addEventListener('click', back);
  nextBtn.addEventListener('click', next);
  saveBtn.addEventListener('click', () => void doSave());

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
    save: doSave,
    close: cancel,
  };
}

/** Drops the payload's references to the secret strings (JS strings cannot be overwritten in place;
 * this is the most a web view can do, and it keeps the values from lingering in a live object). */
function wipe(input: AddKeyInput): void {
  input.apiKey = '';
  input.apiSecret = '';
  input.passphrase = null;
}
