// The key card's Edit dialog: label, rotation policy, environment / base URL and "Bots may use this
// key", filled with the key's current values. Field errors show under their field as in the wizard;
// a move or turning bots on asks for the 2FA code in the same dialog (checked in Rust), and after a
// move the dialog stays open to show what the key's own signed read at the new address found.

import { editKey, toIpcError } from '../api/commands';
import type { EditResult, Field, IpcError, KeyView } from '../api/types';
import { isKeyField } from '../api/types';
import { codeField } from '../guard/code-field';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';
import type { EnvironmentKind, FieldError } from '../wizard/validate';
import {
  autoRotation,
  bots,
  checkEdit,
  draftOf,
  isEmpty,
  labelsTakenBy,
  needsCode,
  reverifyTitle,
  reverifyTone,
  toEditInput,
  type EditDraft,
} from './edit-key';
import { exchangeName } from './format';

export interface EditDialogOptions {
  key: KeyView;
  /** Every key on the list, for the label check. */
  keys: readonly KeyView[];
  guardEnrolled: boolean;
  /** `edit_key`; tests pass their own. */
  edit?: typeof editKey;
  /** Rust saved the edit (the dialog may still be showing the re-verify result). */
  onSaved: (result: EditResult) => void;
  onClosed: () => void;
  /** For `guard_missing` under the code field: closes this dialog, then opens enrolment. */
  onEnroll?: () => void;
  returnFocus?: () => HTMLElement | null;
}

const ENV_OPTIONS: readonly [EnvironmentKind, string][] = [
  ['live', 'Live'],
  ['demo', 'Demo / testnet'],
  ['custom', 'Custom base URL'],
];
const FIELDS_SHOWN: readonly Field[] = ['label', 'rotationDays', 'baseUrl'];

export function openEditDialog(opts: EditDialogOptions): void {
  const { key } = opts;
  const edit = opts.edit ?? editKey;
  const start = draftOf(key);
  const taken = labelsTakenBy(opts.keys, key);
  let busy = false;
  let done = false;

  const errorEl = (field: Field): HTMLElement =>
    h('div', { class: 'field-error', id: `edit-error-${field}`, 'data-error-for': field, role: 'alert', hidden: true });
  const errors = new Map<Field, HTMLElement>(FIELDS_SHOWN.map((f) => [f, errorEl(f)]));

  const labelInput = h('input', {
    id: 'edit-label',
    name: 'label',
    type: 'text',
    maxlength: 200,
    autocomplete: 'off',
    spellcheck: 'false',
    value: start.label,
    'aria-describedby': 'edit-error-label',
  });
  const rotationInput = h('input', {
    id: 'edit-rotation-days',
    name: 'rotationDays',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    value: start.rotationDays,
    'aria-describedby': 'edit-rotation-help edit-error-rotationDays',
  });
  const envSelect = h(
    'select',
    { id: 'edit-environment', name: 'environment' },
    ...ENV_OPTIONS.map(([v, text]) => h('option', { value: v }, text)),
  );
  envSelect.value = start.environment;
  const baseUrlInput = h('input', {
    id: 'edit-base-url',
    name: 'baseUrl',
    type: 'url',
    autocomplete: 'off',
    spellcheck: 'false',
    value: start.baseUrl,
    placeholder: 'https://… or http://127.0.0.1:port',
    'aria-describedby': 'edit-base-url-help edit-error-baseUrl',
  });
  const baseUrlRow = h(
    'div',
    { class: 'field', hidden: start.environment !== 'custom' },
    h('label', { for: 'edit-base-url' }, 'Base URL'),
    baseUrlInput,
    h(
      'p',
      { class: 'help', id: 'edit-base-url-help' },
      'https only; plain http is allowed for a local simulator on 127.0.0.1, ::1 or localhost.',
    ),
    errors.get('baseUrl'),
  );
  const botsInput = bots(key)
    ? h('input', { id: 'edit-bots', name: 'botsAllowed', type: 'checkbox', checked: start.botsAllowed })
    : null;
  const autoInput = autoRotation(key)
    ? h('input', { id: 'edit-auto-rotate', name: 'autoRotate', type: 'checkbox', checked: start.autoRotate })
    : null;
  const moveNote = h(
    'p',
    { class: 'help edit-move-note', id: 'edit-move-note', hidden: true },
    `Latchkey will send this key’s signed requests (checks and revokes) to the new address, and checks the key there with ${exchangeName(key.exchange)} right after saving.`,
  );
  const code = codeField({
    id: 'edit-code',
    onSubmit: () => void save(),
    onEnroll: opts.onEnroll
      ? () => {
          close();
          opts.onEnroll?.();
        }
      : undefined,
  });
  code.row.hidden = true;
  const result = h('div', { id: 'edit-result', class: 'edit-result', role: 'status', 'aria-live': 'polite', hidden: true });
  const errorBox = h('p', { class: 'card-error dialog-error', role: 'alert', hidden: true });
  const cancel = h('button', { type: 'button', id: 'edit-cancel', class: 'btn btn-secondary' }, 'Cancel');
  const saveButton = h('button', { type: 'button', id: 'edit-save', class: 'btn btn-primary' }, 'Save');

  const form = h(
    'form',
    { class: 'edit-form', novalidate: true, autocomplete: 'off' },
    h('div', { class: 'field' }, h('label', { for: 'edit-label' }, 'Label'), labelInput, errors.get('label')),
    h(
      'div',
      { class: 'field field-short' },
      h('label', { for: 'edit-rotation-days' }, 'Rotate every (days)'),
      rotationInput,
      h('p', { class: 'help', id: 'edit-rotation-help' }, 'Latchkey reminds you when the key is due for rotation.'),
      errors.get('rotationDays'),
    ),
    h('div', { class: 'field' }, h('label', { for: 'edit-environment' }, 'Environment'), envSelect),
    baseUrlRow,
    moveNote,
    botsInput ? h('label', { class: 'field-check' }, botsInput, ' Bots may use this key') : null,
    autoInput
      ? h(
          'label',
          {
            class: 'field-check',
            title: 'When it falls due, Latchkey replaces the key through its master with nobody at the keyboard.',
          },
          autoInput,
          ' Rotate automatically through its master',
        )
      : null,
    code.row,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void save();
  });

  const modal = openModal(
    {
      id: 'edit-dialog',
      className: 'dialog-edit',
      labelledBy: 'edit-title',
      describedBy: 'edit-desc',
      onEscape: () => {
        if (!busy) close();
      },
      returnFocus: opts.returnFocus,
    },
    h('h2', { id: 'edit-title' }, `Edit “${key.label}”`),
    h(
      'p',
      { id: 'edit-desc', class: 'muted' },
      `${exchangeName(key.exchange)} · ${key.keyHint}. The secret does not change here: rotate the key for that.`,
    ),
    // The fields scroll in a small window; the title and the buttons stay in view.
    h('div', { class: 'edit-body' }, form, result, errorBox),
    h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), cancel, saveButton),
  );

  const draft = (): EditDraft => ({
    label: labelInput.value,
    rotationDays: rotationInput.value,
    environment: envSelect.value as EnvironmentKind,
    baseUrl: baseUrlInput.value,
    botsAllowed: botsInput ? botsInput.checked : start.botsAllowed,
    autoRotate: autoInput ? autoInput.checked : start.autoRotate,
  });
  const inputOf: Record<string, HTMLInputElement> = { label: labelInput, rotationDays: rotationInput, baseUrl: baseUrlInput };

  function setError(field: Field, message: string | null): void {
    const el = errors.get(field);
    if (!el) return;
    el.textContent = message ?? '';
    el.hidden = !message;
    if (message) inputOf[field]?.setAttribute('aria-invalid', 'true');
    else inputOf[field]?.removeAttribute('aria-invalid');
  }

  /** The move note and the code field follow what the draft changes. */
  function update(): void {
    baseUrlRow.hidden = envSelect.value !== 'custom';
    if (baseUrlRow.hidden) setError('baseUrl', null);
    const errs = checkEdit(draft(), taken);
    const input = errs.length ? null : toEditInput(draft(), key);
    moveNote.hidden = !input?.environment;
    const wantsCode = !!input && needsCode(input, opts.guardEnrolled);
    if (code.row.hidden === wantsCode) {
      code.row.hidden = !wantsCode;
      if (!wantsCode) code.clear();
      // The fields scroll: the code field that just appeared is brought into view.
      else code.row.scrollIntoView?.({ block: 'nearest' });
    }
  }
  for (const [field, el] of Object.entries(inputOf)) {
    el.addEventListener('input', () => {
      setError(field as Field, null);
      update();
    });
  }
  envSelect.addEventListener('change', update);
  botsInput?.addEventListener('change', update);
  autoInput?.addEventListener('change', update);

  function showErrors(errs: FieldError[]): void {
    for (const f of FIELDS_SHOWN) setError(f, errs.find((e) => e.field === f)?.message ?? null);
    const first = errs[0];
    if (first) inputOf[first.field]?.focus();
  }

  function setBusy(b: boolean): void {
    busy = b;
    saveButton.disabled = b;
    cancel.disabled = b;
    modal.dialog.setAttribute('aria-busy', String(b));
    saveButton.replaceChildren(b ? 'Saving…' : 'Save');
  }

  async function save(): Promise<void> {
    if (busy || done || saveButton.hidden) return;
    errorBox.hidden = true;
    const d = draft();
    const errs = checkEdit(d, taken);
    showErrors(errs);
    if (errs.length) return;
    const input = toEditInput(d, key);
    if (isEmpty(input)) {
      close();
      return;
    }
    let guardCode: string | null = null;
    if (needsCode(input, opts.guardEnrolled)) {
      code.row.hidden = false;
      guardCode = code.read();
      if (!guardCode) return;
    }
    setBusy(true);
    if (input.environment)
      result.replaceChildren(`Saving, then checking the key with ${exchangeName(key.exchange)} at the new address…`);
    result.hidden = !input.environment;
    try {
      const saved = await edit(key.id, input, guardCode);
      code.clear();
      opts.onSaved(saved);
      if (saved.reverify) showResult(saved);
      else close();
    } catch (e) {
      const err: IpcError = toIpcError(e);
      setBusy(false);
      result.hidden = true;
      // Rust asked for a code the dialog did not expect (2FA was set up elsewhere meanwhile).
      if (err.kind === 'guard' || err.kind === 'guard_missing') code.row.hidden = false;
      if (err.kind === 'invalid' && err.field && isKeyField(err.field) && errors.has(err.field)) {
        showErrors([{ field: err.field, message: err.message }]);
      } else if (!code.showError(err)) {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
      }
    }
  }

  /** After a move: the fields are done with; the dialog shows the check and offers Close. */
  function showResult(saved: EditResult): void {
    const r = saved.reverify;
    if (!r) return;
    setBusy(false);
    // The fields are done with: what was saved and what the check found take their place.
    form.hidden = true;
    code.row.hidden = true;
    result.dataset.outcome = r.outcome;
    result.dataset.status = r.status;
    result.className = `edit-result edit-result-${reverifyTone(r)}`;
    result.replaceChildren(
      h('p', { class: 'edit-result-saved' }, `Saved: ${saved.changes.join('; ')}.`),
      h('p', { class: 'edit-result-title' }, reverifyTitle(r)),
      h('p', { class: 'edit-result-message' }, r.message),
    );
    result.hidden = false;
    saveButton.hidden = true;
    cancel.replaceChildren('Close');
    cancel.focus();
  }

  function close(): void {
    if (done) return;
    done = true;
    code.clear();
    modal.close();
    opts.onClosed();
  }

  cancel.addEventListener('click', () => close());
  saveButton.addEventListener('click', () => void save());
  labelInput.focus();
}
