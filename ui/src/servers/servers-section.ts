// The "Servers (OpenBao)" part of Settings: the form (./servers-form), Save, "Test connection" with
// the report or the precise error, and the hosts (./hosts-section) once a server is saved.

import { saveServers, testServers } from '../api/servers';
import type { IpcError, KeyView, ServerField, ServersStatus } from '../api/types';
import { h } from '../lib/dom';
import { renderHostsSection } from './hosts-section';
import { readInputs, readServersForm, renderServerError, reportLines, serversInputs } from './servers-form';

export interface ServersSectionOptions {
  status: ServersStatus | null;
  /** The keys, for Add host's choice (the ones that may go to servers). */
  keys: () => readonly KeyView[];
  /** For a guarded action while 2FA is not set up: closes the dialog, opens enrolment. */
  onEnroll: () => void;
  /** The saved settings or the hosts changed. */
  onChanged: (status: ServersStatus) => void;
  announce: (text: string) => void;
}

export function renderServersSection(opts: ServersSectionOptions): HTMLElement {
  let status = opts.status;
  let busy = false;
  const inputs = serversInputs(status);
  const errorEls = new Map<ServerField, HTMLElement>();
  const field = (label: string, input: HTMLElement, f: ServerField, help?: string, helpId?: string) => {
    const err = h('p', { class: 'field-error', id: `${input.id}-error`, 'data-error-for': f, hidden: true });
    errorEls.set(f, err);
    return h(
      'div',
      { class: 'field', 'data-field': f },
      h('label', { for: input.id }, label),
      input,
      help ? h('p', { class: 'help', id: helpId }, help) : null,
      err,
    );
  };
  const fieldOf: Partial<Record<ServerField, HTMLElement>> = {
    address: inputs.addr,
    username: inputs.username,
    mount: inputs.mount,
    prefix: inputs.prefix,
    credential: inputs.credential,
  };
  const setError = (f: ServerField, message: string | null): void => {
    const el = errorEls.get(f);
    if (!el) return;
    el.textContent = message ?? '';
    el.hidden = !message;
    if (message) fieldOf[f]?.setAttribute('aria-invalid', 'true');
    else fieldOf[f]?.removeAttribute('aria-invalid');
  };

  const usernameRow = field('Username', inputs.username, 'username');
  const credentialLabel = (): string => (inputs.auth.value === 'userpass' ? 'Password' : 'Token');
  const credentialHelp = h('p', { class: 'help', id: 'servers-credential-help' });
  const credentialRow = field(credentialLabel(), inputs.credential, 'credential');
  credentialRow.insertBefore(credentialHelp, credentialRow.lastChild);
  const syncAuth = (): void => {
    usernameRow.hidden = inputs.auth.value !== 'userpass';
    credentialRow.querySelector('label')!.textContent = credentialLabel();
    const kept = status?.credentialSaved && status.settings?.auth === inputs.auth.value;
    credentialHelp.textContent = kept
      ? `Saved in the keychain. Leave empty to keep it; type a new one to replace it.`
      : `Kept in the keychain, never in Latchkey's database, never shown again.`;
  };
  inputs.auth.addEventListener('change', syncAuth);
  syncAuth();

  const save = h('button', { type: 'submit', id: 'servers-save', class: 'btn btn-primary' }, 'Save server');
  const test = h(
    'button',
    { type: 'button', id: 'servers-test', class: 'btn btn-secondary', disabled: !status?.settings },
    'Test connection',
  );
  const result = h('div', { id: 'servers-result', class: 'servers-result', role: 'status', 'aria-live': 'polite', hidden: true });
  const errorBox = h('div', { id: 'servers-error', class: 'card-error', role: 'alert', hidden: true });
  const hostsSlot = h('div', { class: 'servers-hosts-slot' });

  const clear = (): void => {
    errorEls.forEach((_, f) => setError(f, null));
    errorBox.hidden = true;
    result.hidden = true;
  };
  const showError = (err: IpcError): void => {
    if (err.kind === 'invalid' && err.serverField && errorEls.has(err.serverField)) {
      setError(err.serverField, err.message);
      fieldOf[err.serverField]?.focus();
      return;
    }
    errorBox.replaceChildren(...renderServerError(err));
    errorBox.hidden = false;
  };
  const setBusy = (b: boolean, button?: HTMLButtonElement, text?: string): void => {
    busy = b;
    save.disabled = b;
    test.disabled = b || !status?.settings;
    if (button && text) button.textContent = text;
  };
  const drawHosts = (): void => {
    hostsSlot.replaceChildren(
      status?.settings && status.credentialSaved
        ? renderHostsSection({ keys: opts.keys, onEnroll: opts.onEnroll, announce: opts.announce })
        : h('p', { class: 'muted' }, 'Save a server to add the hosts (servers) your bots run on.'),
    );
  };

  const form = h(
    'form',
    { id: 'servers-form', class: 'settings-form', novalidate: true, autocomplete: 'off' },
    h(
      'fieldset',
      { class: 'settings-group' },
      h('legend', {}, 'Servers (OpenBao)'),
      h(
        'p',
        { class: 'help' },
        'Bots on servers get their keys from OpenBao: Latchkey writes each key you deliver there, and each host reads only the keys you give it.',
      ),
      field(
        'Address',
        inputs.addr,
        'address',
        'https://, or http:// on this machine only (a local dev server).',
        'servers-addr-help',
      ),
      h('div', { class: 'field' }, h('label', { for: 'servers-auth' }, 'Latchkey signs in with'), inputs.auth),
      usernameRow,
      credentialRow,
      field('KV version 2 mount', inputs.mount, 'mount'),
      field('Path prefix', inputs.prefix, 'prefix', 'Keys go to <mount>/data/<prefix>/<label>.', 'servers-prefix-help'),
      errorBox,
      h('div', { class: 'settings-actions' }, save, test),
      result,
    ),
  );
  for (const [f, el] of Object.entries(fieldOf)) el?.addEventListener('input', () => setError(f as ServerField, null));

  const submit = async (): Promise<void> => {
    if (busy) return;
    clear();
    const read = readServersForm(readInputs(inputs), status);
    if ('errors' in read) {
      read.errors.forEach((e) => setError(e.field, e.message));
      fieldOf[read.errors[0].field]?.focus();
      return;
    }
    setBusy(true, save, 'Saving…');
    try {
      status = await saveServers(read.settings, read.credential);
      inputs.credential.value = '';
      syncAuth();
      result.replaceChildren('Server saved; the credential is in the keychain. Test the connection to see that it works.');
      result.hidden = false;
      opts.announce('OpenBao server saved.');
      opts.onChanged(status);
      drawHosts();
    } catch (e) {
      showError(e as IpcError);
    } finally {
      inputs.credential.value = '';
      setBusy(false, save, 'Save server');
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void submit();
  });
  test.addEventListener('click', () => void runTest());

  async function runTest(): Promise<void> {
    if (busy) return;
    clear();
    setBusy(true, test, 'Testing…');
    try {
      const report = await testServers();
      result.replaceChildren(...reportLines(report).map((l) => h('p', { class: 'servers-ok' }, l)));
      result.hidden = false;
    } catch (e) {
      showError(e as IpcError);
    } finally {
      setBusy(false, test, 'Test connection');
    }
  }

  drawHosts();
  return h('div', { id: 'servers-section', class: 'servers-section' }, form, hostsSlot);
}
