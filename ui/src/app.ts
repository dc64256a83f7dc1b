// The window: header, banners, the key list, and the dialogs it opens.

import logoUrl from './assets/logo.svg';
import { deleteKey, keychainStatus, listKeys } from './api/commands';
import type { IpcError, KeyRecord } from './api/types';
import { confirmDelete } from './dashboard/confirm-delete';
import { renderKeyList } from './dashboard/dashboard';
import { Banner } from './lib/banner';
import { h } from './lib/dom';
import { openWizard, type Wizard } from './wizard/wizard';

export interface AppOptions {
  /** The clock, for tests. */
  now?: () => Date;
}

export interface App {
  refresh(): Promise<void>;
  openWizard(): Wizard;
  readonly ready: Promise<void>;
}

export function mountApp(root: HTMLElement, options: AppOptions = {}): App {
  const now = options.now ?? (() => new Date());
  let keys: KeyRecord[] = [];
  let wizard: Wizard | null = null;

  const banner = new Banner();
  const keychainBanner = h('div', { id: 'keychain-banner', class: 'banner banner-warning', role: 'alert', hidden: true });
  const status = h('p', { id: 'status', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const addButton = h('button', { type: 'button', id: 'add-key', class: 'btn btn-primary', 'aria-haspopup': 'dialog' }, h('span', { 'aria-hidden': 'true', class: 'plus' }, '+'), ' Add key');
  const header = h('header', { class: 'app-header' },
    h('div', { class: 'brand' },
      h('img', { src: logoUrl, alt: '', class: 'logo', width: 28, height: 28 }),
      h('h1', {}, 'Latchkey'),
      h('span', { class: 'tagline' }, 'Exchange API keys, kept in your OS keychain'),
    ),
    addButton,
  );
  const main = h('main', { id: 'main', class: 'app-main', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading keys…'));
  const bannerSlot = h('div', { class: 'banner-slot' }, keychainBanner);
  root.replaceChildren(header, bannerSlot, main, status);
  banner.mountIn(bannerSlot);

  const announce = (text: string): void => {
    status.textContent = text;
  };

  const showError = (err: IpcError): void => banner.show(err.message);

  const handlers = {
    onAdd: () => startWizard(document.getElementById('add-first-key')),
    onDelete: (key: KeyRecord) => void removeKey(key),
  };

  const render = (): void => {
    main.removeAttribute('aria-busy');
    main.replaceChildren(renderKeyList(keys, now(), handlers));
  };

  const focusCard = (id: string): void => {
    const card = main.querySelector<HTMLElement>(`[data-testid=key-card][data-id="${CSS.escape(id)}"]`);
    (card ?? addButton).focus();
  };

  const refresh = async (): Promise<void> => {
    try {
      keys = await listKeys();
      render();
    } catch (e) {
      showError(e as IpcError);
      const retry = h('button', { type: 'button', id: 'retry-load', class: 'btn btn-secondary' }, 'Try again');
      retry.addEventListener('click', () => void refresh());
      main.removeAttribute('aria-busy');
      main.replaceChildren(h('div', { class: 'load-failed' }, h('p', {}, 'The key list could not be loaded.'), retry));
    }
  };

  const checkKeychain = async (): Promise<void> => {
    let message: string | null = null;
    try {
      const s = await keychainStatus();
      if (!s.ok) message = s.message ?? 'The OS keychain is not available, so keys cannot be saved.';
    } catch (e) {
      message = (e as IpcError).message;
    }
    if (message) {
      keychainBanner.replaceChildren(h('strong', {}, 'Keychain unavailable. '), message);
      keychainBanner.hidden = false;
    } else {
      keychainBanner.hidden = true;
    }
  };

  function startWizard(opener: HTMLElement | null = addButton): Wizard {
    if (wizard) return wizard;
    banner.clear();
    wizard = openWizard({
      banner,
      returnFocus: () => (opener?.isConnected ? opener : null) ?? document.getElementById('add-first-key') ?? addButton,
      takenLabels: () => keys.filter((k) => k.status !== 'revoked').map((k) => k.label),
      onSaved: (record) => {
        keys = [...keys.filter((k) => k.id !== record.id), record];
        render();
        announce(`Key “${record.label}” saved to the keychain.`);
        focusCard(record.id);
      },
      onClosed: () => {
        wizard = null;
        banner.mountIn(bannerSlot);
      },
    });
    return wizard;
  }

  async function removeKey(key: KeyRecord): Promise<void> {
    banner.clear();
    const cardOf = (): HTMLElement | null =>
      main.querySelector<HTMLElement>(`[data-testid=key-card][data-id="${CSS.escape(key.id)}"]`);
    if (!(await confirmDelete(key, () => cardOf()?.querySelector<HTMLElement>('.delete-key') ?? addButton))) return;
    const card = cardOf();
    card?.setAttribute('aria-busy', 'true');
    try {
      await deleteKey(key.id);
      const i = keys.findIndex((k) => k.id === key.id);
      keys = keys.filter((k) => k.id !== key.id);
      render();
      announce(`Key “${key.label}” deleted.`);
      const neighbour = keys[Math.min(i, keys.length - 1)];
      if (neighbour) focusCard(neighbour.id);
      else (document.getElementById('add-first-key') ?? addButton).focus();
    } catch (e) {
      card?.removeAttribute('aria-busy');
      showError(e as IpcError);
      if ((e as IpcError).kind === 'not_found') await refresh();
    }
  }

  addButton.addEventListener('click', () => startWizard(addButton));

  const ready = Promise.all([checkKeychain(), refresh()]).then(() => undefined);
  return { refresh, openWizard: () => startWizard(), ready };
}
