// The views that take the key list's place: the audit log and the settings. Each loads its code
// on first use (./dialogs) and its data from Rust; the header's buttons toggle back to the keys.

import { auditLog, getSettings } from '../api/commands';
import type { IpcError, ServersStatus, Settings } from '../api/types';
import { h } from '../lib/dom';
import type { AppContext } from './context';
import type { ServerActions } from './server-actions';
import { LOAD_FAILED, auditModule, settingsModule } from './dialogs';

const AUDIT_LIMIT = 1000;

export interface Views {
  showAudit(): Promise<void>;
  showSettings(): Promise<void>;
  showKeys(): void;
  /** The settings in the background, for the wizard's default rotation. */
  loadSettings(): Promise<void>;
}

/** `servers`: the OpenBao part of Settings, and the cards' servers rows to reload after it. */
export function views(ctx: AppContext, servers?: ServerActions): Views {
  const { state, main, header } = ctx;
  const { auditButton, settingsButton } = header;

  /** The view's place after a failed load: the error and a way back. */
  const failedView = (id: string, backId: string, message: string): HTMLElement => {
    const back = h('button', { type: 'button', id: backId, class: 'btn btn-secondary' }, 'Back to keys');
    back.addEventListener('click', showKeys);
    return h('section', { id, class: 'load-failed' }, h('p', {}, message), back);
  };

  async function showAudit(): Promise<void> {
    if (state.view === 'audit') {
      showKeys();
      return;
    }
    state.view = 'audit';
    auditButton.setAttribute('aria-pressed', 'true');
    settingsButton.setAttribute('aria-pressed', 'false');
    main.setAttribute('aria-busy', 'true');
    main.replaceChildren(h('p', { class: 'loading' }, 'Loading the audit log…'));
    try {
      const [log, m] = await Promise.all([auditLog(AUDIT_LIMIT), auditModule.load()]);
      if (state.view !== 'audit') return;
      main.removeAttribute('aria-busy');
      main.replaceChildren(m.renderAuditView(log, showKeys));
      document.getElementById('audit-view')?.focus();
    } catch (e) {
      if (state.view !== 'audit') return;
      main.removeAttribute('aria-busy');
      main.replaceChildren(failedView('audit-view', 'close-audit', (e as IpcError).message ?? LOAD_FAILED));
    }
  }

  function showKeys(): void {
    const fromSettings = state.view === 'settings';
    const from = fromSettings ? settingsButton : auditButton;
    state.view = 'keys';
    auditButton.setAttribute('aria-pressed', 'false');
    settingsButton.setAttribute('aria-pressed', 'false');
    // Hosts added or the server changed there: the cards' servers rows are asked again.
    void ctx
      .refresh()
      .then(() => from.focus())
      .then(() => (fromSettings ? servers?.load() : undefined));
  }

  const loadSettings = async (): Promise<void> => {
    try {
      state.settings = await getSettings();
    } catch {
      // An older shell, or the store is unavailable: the wizard keeps its built-in default.
    }
  };

  async function showSettings(): Promise<void> {
    if (state.view === 'settings') {
      showKeys();
      return;
    }
    state.view = 'settings';
    settingsButton.setAttribute('aria-pressed', 'true');
    auditButton.setAttribute('aria-pressed', 'false');
    ctx.banner.clear();
    main.setAttribute('aria-busy', 'true');
    main.replaceChildren(h('p', { class: 'loading' }, 'Loading settings…'));
    let loaded: Settings;
    let m: Awaited<ReturnType<typeof settingsModule.load>>;
    let serversStatus: ServersStatus | null;
    try {
      [loaded, m, serversStatus] = await Promise.all([getSettings(), settingsModule.load(), servers?.status() ?? null]);
      state.settings = loaded;
    } catch (e) {
      if (state.view !== 'settings') return;
      main.removeAttribute('aria-busy');
      main.replaceChildren(failedView('settings-view', 'close-settings', (e as IpcError).message ?? LOAD_FAILED));
      return;
    }
    if (state.view !== 'settings') return;
    main.removeAttribute('aria-busy');
    main.replaceChildren(
      m.renderSettingsView(loaded, {
        onSaved: (saved) => {
          state.settings = saved;
          ctx.announce('Settings saved.');
        },
        onBack: showKeys,
        servers: servers?.settings(serversStatus),
      }),
    );
    document.getElementById('settings-view')?.focus();
  }

  return { showAudit, showSettings, showKeys, loadSettings };
}
