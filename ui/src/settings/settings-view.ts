// The Settings screen (`#settings-view`): the default rotation policy for new keys, the due-soon
// window, notifications and start at login; then the OpenBao server (../servers/servers-section).
// The number checks mirror crates/core/src/settings.rs
// (Rust checks again and names the field it refuses).

import { saveSettings, type SettingsError } from '../api/commands';
import type { Settings, SettingsField } from '../api/types';
import { h } from '../lib/dom';
import { renderServersSection, type ServersSectionOptions } from '../servers/servers-section';
import { parseRotationDays } from '../wizard/validate';

export const DUE_SOON_MAX_DAYS = 90;

export interface SettingsViewOptions {
  onSaved: (settings: Settings) => void;
  onBack: () => void;
  /** Defaults to the `save_settings` command. */
  save?: (settings: Settings) => Promise<Settings>;
  /** The "Servers (OpenBao)" part; left out when not given. */
  servers?: ServersSectionOptions;
}

/** The due-soon window: a whole number of days, 0–90. */
export function parseDueSoonDays(raw: string): number | { field: SettingsField; message: string } {
  const s = raw.trim();
  const range = `Choose a reminder window between 0 and ${DUE_SOON_MAX_DAYS} days (14 is a good default).`;
  if (!/^\d+$/.test(s)) return { field: 'dueSoonDays', message: s === '' ? range : `Enter a whole number of days. ${range}` };
  const n = Number(s);
  return n > DUE_SOON_MAX_DAYS ? { field: 'dueSoonDays', message: range } : n;
}

/** What the form holds, checked: the settings to send, or the errors per field. */
export function readSettingsForm(raw: {
  defaultRotationDays: string;
  dueSoonDays: string;
  notifications: boolean;
  startAtLogin: boolean;
}): { settings: Settings } | { errors: { field: SettingsField; message: string }[] } {
  const errors: { field: SettingsField; message: string }[] = [];
  const rotation = parseRotationDays(raw.defaultRotationDays);
  if (typeof rotation !== 'number') errors.push({ field: 'defaultRotationDays', message: rotation.message });
  const dueSoon = parseDueSoonDays(raw.dueSoonDays);
  if (typeof dueSoon !== 'number') errors.push(dueSoon);
  if (errors.length || typeof rotation !== 'number' || typeof dueSoon !== 'number') return { errors };
  return {
    settings: {
      defaultRotationDays: rotation,
      dueSoonDays: dueSoon,
      notifications: raw.notifications,
      startAtLogin: raw.startAtLogin,
    },
  };
}

export function renderSettingsView(initial: Settings, opts: SettingsViewOptions): HTMLElement {
  const save = opts.save ?? saveSettings;
  let busy = false;

  const errorEls = new Map<SettingsField, HTMLElement>();
  const errorEl = (field: SettingsField, id: string): HTMLElement => {
    const el = h('p', { class: 'field-error', id, 'data-error-for': field, hidden: true });
    errorEls.set(field, el);
    return el;
  };
  const numberInput = (id: string, value: number, describedBy: string) =>
    h('input', {
      id,
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'off',
      value: String(value),
      'aria-describedby': describedBy,
    });

  const rotation = numberInput(
    'setting-default-rotation',
    initial.defaultRotationDays,
    'setting-default-rotation-help setting-default-rotation-error',
  );
  const dueSoon = numberInput('setting-due-soon', initial.dueSoonDays, 'setting-due-soon-help setting-due-soon-error');
  const notifications = h('input', {
    id: 'setting-notifications',
    type: 'checkbox',
    'aria-describedby': 'setting-notifications-help',
  });
  notifications.checked = initial.notifications;
  const startAtLogin = h('input', {
    id: 'setting-start-at-login',
    type: 'checkbox',
    'aria-describedby': 'setting-start-at-login-help',
  });
  startAtLogin.checked = initial.startAtLogin;
  const inputs: Record<SettingsField, HTMLInputElement> = { defaultRotationDays: rotation, dueSoonDays: dueSoon };

  const saveBtn = h('button', { type: 'submit', id: 'settings-save', class: 'btn btn-primary' }, 'Save');
  const back = h('button', { type: 'button', id: 'close-settings', class: 'btn btn-secondary' }, 'Back to keys');
  const saved = h('p', { id: 'settings-saved', class: 'settings-saved', role: 'status', 'aria-live': 'polite', hidden: true });
  const errorBox = h('p', { id: 'settings-error', class: 'card-error', role: 'alert', hidden: true });

  const setError = (field: SettingsField, message: string | null): void => {
    const el = errorEls.get(field)!;
    el.textContent = message ?? '';
    el.hidden = !message;
    if (message) inputs[field].setAttribute('aria-invalid', 'true');
    else inputs[field].removeAttribute('aria-invalid');
  };
  const clearMessages = (): void => {
    errorEls.forEach((_, f) => setError(f, null));
    errorBox.hidden = true;
    saved.hidden = true;
  };

  const check = (label: string, input: HTMLInputElement, helpId: string, help: string) =>
    h(
      'div',
      { class: 'field field-check' },
      h('label', { class: 'check-label' }, input, h('span', {}, label)),
      h('p', { class: 'help', id: helpId }, help),
    );

  const form = h(
    'form',
    { class: 'settings-form', novalidate: true, autocomplete: 'off' },
    h(
      'fieldset',
      { class: 'settings-group' },
      h('legend', {}, 'Rotation reminders'),
      h(
        'div',
        { class: 'field field-short' },
        h('label', { for: 'setting-default-rotation' }, 'Default rotation policy (days)'),
        rotation,
        h(
          'p',
          { class: 'help', id: 'setting-default-rotation-help' },
          'What new keys get in the Add key wizard (1 to 3650 days). Keys you already have keep their own policy.',
        ),
        errorEl('defaultRotationDays', 'setting-default-rotation-error'),
      ),
      h(
        'div',
        { class: 'field field-short' },
        h('label', { for: 'setting-due-soon' }, 'Due-soon window (days)'),
        dueSoon,
        h(
          'p',
          { class: 'help', id: 'setting-due-soon-help' },
          `How many days before its due date a key counts as due soon and reminders start (0 to ${DUE_SOON_MAX_DAYS}).`,
        ),
        errorEl('dueSoonDays', 'setting-due-soon-error'),
      ),
      check(
        'Show notifications when keys are due',
        notifications,
        'setting-notifications-help',
        'At most one a day per key. Snoozed keys stay quiet.',
      ),
    ),
    h(
      'fieldset',
      { class: 'settings-group' },
      h('legend', {}, 'App'),
      check(
        'Start Latchkey at login',
        startAtLogin,
        'setting-start-at-login-help',
        'Latchkey starts in the tray, so reminders reach you without opening it.',
      ),
    ),
    errorBox,
    h('div', { class: 'settings-actions' }, saveBtn, saved),
  );

  for (const f of ['defaultRotationDays', 'dueSoonDays'] as const) inputs[f].addEventListener('input', () => setError(f, null));
  for (const el of [rotation, dueSoon, notifications, startAtLogin]) el.addEventListener('input', () => (saved.hidden = true));

  const submit = async (): Promise<void> => {
    if (busy) return;
    clearMessages();
    const read = readSettingsForm({
      defaultRotationDays: rotation.value,
      dueSoonDays: dueSoon.value,
      notifications: notifications.checked,
      startAtLogin: startAtLogin.checked,
    });
    if ('errors' in read) {
      read.errors.forEach((e) => setError(e.field, e.message));
      inputs[read.errors[0].field].focus();
      return;
    }
    busy = true;
    saveBtn.disabled = true;
    saveBtn.textContent = 'Saving…';
    try {
      const result = await save(read.settings);
      rotation.value = String(result.defaultRotationDays);
      dueSoon.value = String(result.dueSoonDays);
      notifications.checked = result.notifications;
      startAtLogin.checked = result.startAtLogin;
      saved.textContent = 'Settings saved.';
      saved.hidden = false;
      opts.onSaved(result);
    } catch (e) {
      const err = e as SettingsError;
      if (err.field) {
        setError(err.field, err.message);
        inputs[err.field].focus();
      } else {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
        saveBtn.focus();
      }
    } finally {
      busy = false;
      saveBtn.disabled = false;
      saveBtn.textContent = 'Save';
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void submit();
  });
  back.addEventListener('click', opts.onBack);

  return h(
    'section',
    { id: 'settings-view', class: 'settings-view', tabindex: -1, 'aria-labelledby': 'settings-title' },
    h(
      'div',
      { class: 'audit-top' },
      h('h2', { id: 'settings-title', class: 'section-title' }, 'Settings'),
      h('span', { class: 'spacer' }),
      back,
    ),
    form,
    opts.servers ? renderServersSection(opts.servers) : null,
  );
}
