// The window: header, banners, the key list, and the dialogs it opens.

import logoUrl from './assets/logo.svg';
import { deleteKey, keychainStatus, listKeys, verifyKey } from './api/commands';
import type { IpcError, KeyView } from './api/types';
import { confirmDelete } from './dashboard/confirm-delete';
import { renderKeyList, type CardState } from './dashboard/dashboard';
import { exchangeName } from './dashboard/format';
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
  let keys: KeyView[] = [];
  let wizard: Wizard | null = null;
  /** Re-checks under way and their errors, by key id: they survive re-renders of the list. */
  const cardStates = new Map<string, CardState>();

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
    onDelete: (key: KeyView) => void removeKey(key),
    onRecheck: (key: KeyView) => void recheck(key),
  };

  const cardOf = (id: string): HTMLElement | null =>
    main.querySelector<HTMLElement>(`[data-testid=key-card][data-id="${CSS.escape(id)}"]`);

  /** Re-renders the list; focus on a card or one of its buttons stays on its counterpart. */
  const render = (): void => {
    const active = document.activeElement;
    const card = active instanceof HTMLElement && main.contains(active) ? active.closest<HTMLElement>('[data-testid=key-card]') : null;
    const control = card && active !== card ? ['recheck-key', 'delete-key'].find((c) => (active as HTMLElement).classList.contains(c)) : undefined;
    main.removeAttribute('aria-busy');
    main.replaceChildren(renderKeyList(keys, now(), handlers, cardStates));
    if (card?.dataset.id) {
      const again = cardOf(card.dataset.id);
      const target = control ? again?.querySelector<HTMLElement>(`.${control}`) : again;
      (target && !target.hasAttribute('disabled') ? target : again)?.focus();
    }
  };

  const focusCard = (id: string): void => {
    (cardOf(id) ?? addButton).focus();
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
      now,
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

  /** Asks the exchange again about a saved key; the card shows the answer or the error. */
  async function recheck(key: KeyView): Promise<void> {
    if (cardStates.get(key.id)?.checking) return;
    cardStates.set(key.id, { checking: true });
    render();
    let error: string | null = null;
    try {
      const updated = await verifyKey(key.id);
      keys = keys.map((k) => (k.id === key.id ? updated : k));
      announce(`Key “${updated.label}” re-checked with ${exchangeName(updated.exchange)}.`);
    } catch (e) {
      const err = e as IpcError;
      error = err.message;
      if (err.kind === 'not_found') {
        cardStates.delete(key.id);
        showError(err);
        await refresh();
        return;
      }
    }
    if (error) cardStates.set(key.id, { error });
    else cardStates.delete(key.id);
    render();
    // Focus went to the card (or nowhere) while its button was disabled: give it back to the button.
    const active = document.activeElement;
    const card = cardOf(key.id);
    if (!wizard && card && (!active || active === document.body || active === card)) card.querySelector<HTMLElement>('.recheck-key')?.focus();
  }

  async function removeKey(key: KeyView): Promise<void> {
    banner.clear();
    if (!(await confirmDelete(key, () => cardOf(key.id)?.querySelector<HTMLElement>('.delete-key') ?? addButton))) return;
    const card = cardOf(key.id);
    card?.setAttribute('aria-busy', 'true');
    try {
      await deleteKey(key.id);
      const i = keys.findIndex((k) => k.id === key.id);
      keys = keys.filter((k) => k.id !== key.id);
      cardStates.delete(key.id);
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
