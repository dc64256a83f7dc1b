// The hosts (servers a bot runs on) as OpenBao knows them, each with the keys its policy reads, and
// "Add host" / "Remove". Adding is guarded (a 2FA code, checked in Rust); removing only narrows
// where keys go, so it asks for a confirmation, not a code.

import { removeServerHost, serverHosts } from '../api/servers';
import type { HostView, IpcError, KeyView } from '../api/types';
import { askConfirm } from '../lib/confirm';
import { h } from '../lib/dom';
import { openAddHost } from './host-dialogs';
import { renderServerError } from './servers-form';

export interface HostsSectionOptions {
  keys: () => readonly KeyView[];
  onEnroll: () => void;
  announce: (text: string) => void;
}

export function renderHostsSection(opts: HostsSectionOptions): HTMLElement {
  const list = h('ul', { id: 'server-hosts', class: 'server-hosts', 'aria-busy': 'true' });
  const status = h('p', { class: 'muted', id: 'server-hosts-status' }, 'Asking OpenBao for the hosts…');
  const errorBox = h('div', { class: 'card-error', role: 'alert', hidden: true });
  const add = h('button', { type: 'button', id: 'add-host', class: 'btn btn-secondary', 'aria-haspopup': 'dialog' }, 'Add host…');

  const showError = (err: IpcError): void => {
    errorBox.replaceChildren(...renderServerError(err));
    errorBox.hidden = false;
  };

  const row = (host: HostView): HTMLLIElement => {
    const remove = h(
      'button',
      { type: 'button', class: 'btn btn-danger-quiet btn-small remove-host', 'aria-label': `Remove host ${host.name}` },
      'Remove',
    );
    remove.addEventListener('click', () => void removeHost(host, remove));
    return h(
      'li',
      { class: 'server-host', 'data-host': host.name },
      h('span', { class: 'host-name' }, host.name),
      h('span', { class: 'muted host-keys' }, host.keys.length ? `reads ${host.keys.join(', ')}` : 'reads nothing'),
      h('span', { class: 'spacer' }),
      remove,
    );
  };

  async function load(): Promise<void> {
    errorBox.hidden = true;
    list.setAttribute('aria-busy', 'true');
    try {
      const hosts = await serverHosts();
      list.replaceChildren(...hosts.map(row));
      status.textContent = hosts.length ? '' : 'No hosts yet. Add the first server a bot runs on.';
      status.hidden = hosts.length > 0;
    } catch (e) {
      status.hidden = true;
      showError(e as IpcError);
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  async function removeHost(host: HostView, button: HTMLButtonElement): Promise<void> {
    const yes = await askConfirm({
      id: 'remove-host-dialog',
      title: `Remove host “${host.name}”?`,
      body: [
        h(
          'p',
          {},
          `OpenBao deletes its role and policy: it can no longer sign in, and the tokens it holds read nothing from now on. Bots there stop getting ${host.keys.join(', ') || 'keys'}.`,
        ),
      ],
      confirmLabel: 'Remove host',
      cancelLabel: 'Keep it',
      danger: true,
    });
    if (!yes) {
      button.focus();
      return;
    }
    errorBox.hidden = true;
    try {
      await removeServerHost(host.name);
      opts.announce(`Host “${host.name}” removed.`);
    } catch (e) {
      showError(e as IpcError);
    }
    await load();
    add.focus();
  }

  add.addEventListener('click', () => {
    void openAddHost({ keys: opts.keys(), onEnroll: opts.onEnroll, returnFocus: () => add }).then(async (added) => {
      if (!added) return;
      opts.announce(`Host “${added}” added.`);
      await load();
    });
  });

  void load();
  return h(
    'section',
    { class: 'settings-group server-hosts-section', 'aria-labelledby': 'server-hosts-title' },
    h('h3', { id: 'server-hosts-title' }, 'Hosts'),
    h('p', { class: 'help' }, 'Each host signs in to OpenBao with its own identity and reads only the keys you choose for it.'),
    status,
    list,
    errorBox,
    h('div', { class: 'settings-actions' }, add),
  );
}
