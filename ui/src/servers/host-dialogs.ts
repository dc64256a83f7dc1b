// "Add host": a name and the keys it may read, with a 2FA code (Rust checks it); then, once, the
// role-id and the wrapped secret-id to paste on the server. The wrapped secret-id is a single-use
// enrolment token valid for minutes: shown in this dialog only, copied through Rust (cleared from
// the clipboard after the TTL), dropped from the page and from Rust when the dialog closes.

import { addServerHost, copyEnrolment, forgetEnrolment } from '../api/servers';
import type { EnrolmentPart, EnrolmentView, KeyView } from '../api/types';
import { askCode } from '../guard/ask-code';
import { h } from '../lib/dom';
import { copyButton } from '../lib/copy-button';
import { openModal } from '../lib/modal';
import { isDeliverable } from './card-row';

const HOST_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,39}$/;
const LABEL_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** The keys a host may be given: those that may go to servers, with a label that is a path. */
export function hostKeyChoices(keys: readonly KeyView[]): KeyView[] {
  return keys.filter((k) => isDeliverable(k) && LABEL_SEGMENT.test(k.label.trim()));
}

/** The dialog's input checked: null when usable, else what to fix. */
export function checkHostInput(name: string, keyIds: readonly string[]): string | null {
  const n = name.trim();
  if (!HOST_NAME.test(n)) {
    return `The host name '${n}' is not usable: up to 40 letters, digits, '.', '_' and '-', e.g. 'vps-frankfurt-1'.`;
  }
  if (!keyIds.length) return 'Choose at least one key the host may read.';
  return null;
}

export interface AddHostOptions {
  keys: readonly KeyView[];
  onEnroll: () => void;
  returnFocus: () => HTMLElement | null;
}

/** Resolves with the new host's name once its enrolment dialog is closed, or null if cancelled. */
export async function openAddHost(opts: AddHostOptions): Promise<string | null> {
  const choices = hostKeyChoices(opts.keys);
  const name = h('input', {
    id: 'host-name',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'vps-frankfurt-1',
  });
  const boxes = choices.map((k) => {
    const box = h('input', { type: 'checkbox', class: 'host-key', value: k.id, 'data-label': k.label });
    return { key: k, box, row: h('label', { class: 'check-label' }, box, h('span', {}, ` ${k.label}`)) };
  });
  const enrolment = await askCode<EnrolmentView>({
    ids: { dialog: 'add-host-dialog', title: 'add-host-title', cancel: 'add-host-cancel', confirm: 'add-host-confirm' },
    title: 'Add a host',
    body: [
      h('div', { class: 'field' }, h('label', { for: 'host-name' }, 'Host name'), name),
      h(
        'fieldset',
        { class: 'host-keys-choice' },
        h('legend', {}, 'Keys it may read'),
        ...(boxes.length
          ? boxes.map((b) => b.row)
          : [h('p', { class: 'muted' }, 'No key may go to servers yet: a key must be active and allowed for bots.')]),
      ),
      h(
        'p',
        { class: 'muted' },
        'OpenBao gets a policy that reads exactly these keys and a sign-in (AppRole) for the host. Enter a 2FA code to allow it.',
      ),
    ],
    confirmLabel: 'Add host',
    busyLabel: 'Adding…',
    run: (code) => {
      const ids = boxes.filter((b) => b.box.checked).map((b) => b.key.id);
      const problem = checkHostInput(name.value, ids);
      if (problem) return Promise.reject(Object.assign(new Error(problem), { kind: 'invalid' }));
      return addServerHost(name.value.trim(), ids, code);
    },
    onEnroll: opts.onEnroll,
    returnFocus: opts.returnFocus,
  });
  if (!enrolment) return null;
  await showEnrolment(enrolment, opts.returnFocus);
  return enrolment.name;
}

/** The one-time dialog: what to paste on the server, with Copy buttons. */
export function showEnrolment(e: EnrolmentView, returnFocus: () => HTMLElement | null): Promise<void> {
  return new Promise((resolve) => {
    const minutes = Math.max(1, Math.round(e.wrapTtlSecs / 60));
    const copied = h('p', { class: 'muted enrolment-copied', role: 'status', 'aria-live': 'polite' });
    const errorBox = h('p', { class: 'card-error', role: 'alert', hidden: true });
    const value = (id: string, text: string) => h('code', { id, class: 'mono enrolment-value' }, text);
    const copy = (part: EnrolmentPart, id: string, what: string) =>
      copyButton(what, () => copyEnrolment(part), { status: copied, errorBox }, { id });
    const secretFile = `/etc/latchkey/${e.name}.secret-id`;
    const roleId = value('enrolment-role-id', e.roleId);
    const secretId = value('enrolment-secret-id', e.wrappedSecretId);
    const runLine = value('enrolment-run-line', e.runLine);
    const done = h('button', { type: 'button', id: 'enrolment-done', class: 'btn btn-primary' }, 'Done');
    const modal = openModal(
      {
        id: 'enrolment-dialog',
        labelledBy: 'enrolment-title',
        describedBy: 'enrolment-desc',
        onEscape: () => finish(),
        onWindowClose: () => void forgetEnrolment(),
        returnFocus,
      },
      h('h2', { id: 'enrolment-title' }, `Host “${e.name}” added`),
      h(
        'div',
        { id: 'enrolment-desc', class: 'dialog-body' },
        h(
          'p',
          { class: 'enrolment-warning' },
          `Shown once. The wrapped secret-id works once, within ${minutes} minutes: paste it on the server now. If its unwrap fails there, someone else used it: remove the host and add it again.`,
        ),
        h('p', {}, `It may read: ${e.paths.join(', ')}.`),
      ),
      h(
        'div',
        { class: 'enrolment-row' },
        h('span', { class: 'enrolment-name' }, 'Role-id'),
        roleId,
        copy('roleId', 'copy-role-id', 'role-id'),
      ),
      h(
        'div',
        { class: 'enrolment-row' },
        h('span', { class: 'enrolment-name' }, 'Wrapped secret-id'),
        secretId,
        copy('wrappedSecretId', 'copy-secret-id', 'wrapped secret-id'),
      ),
      h(
        'ol',
        { class: 'enrolment-steps' },
        h('li', {}, `On the server, save the wrapped secret-id in ${secretFile} (readable by the bot's user only: chmod 600).`),
        h('li', {}, 'Start the bot through Latchkey (replace YOUR-BOT-COMMAND):'),
      ),
      h('div', { class: 'enrolment-row' }, runLine, copy('runLine', 'copy-run-line', 'command line')),
      copied,
      errorBox,
      h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), done),
    );
    let closed = false;
    function finish(): void {
      if (closed) return;
      closed = true;
      // The page keeps no copy: the values leave the DOM with the dialog, and Rust drops its own.
      secretId.textContent = '';
      void forgetEnrolment().catch(() => undefined);
      modal.close();
      resolve();
    }
    done.addEventListener('click', finish);
    done.focus();
  });
}
