// "Create a new key for a bot": a master key Latchkey holds creates a key in one of its
// sub-accounts. Choose the master → its sub-accounts are listed by the exchange (with what the
// master lacks, if it cannot mint) → read or read-and-trade (withdraw is never offered) → the
// bot's IPs (required; none only with the acknowledgement that names what the exchanges do to such
// keys) → label, rotation policy, "rotate automatically" → one 2FA code. Rust makes the key and puts
// its secret straight into the keychain: nothing secret ever reaches this page.

import { mintKey, subAccounts, toIpcError } from '../api/commands';
import { exchangeName, keyLifetimes } from '../api/exchanges';
import type { IpcError, KeyView, MintInput, MintResult, SubAccountsView } from '../api/types';
import { codeField } from '../guard/code-field';
import { exchangeCodeField } from '../guard/exchange-code-field';
import { h } from '../lib/dom';
import { openModal } from '../lib/modal';

export interface MintDialogOptions {
  /** The keys on the list: the masters to choose from are the active ones that are no sub key. */
  keys: readonly KeyView[];
  guardEnrolled: boolean;
  defaultRotationDays?: number;
  /** Commands; tests pass their own. */
  list?: typeof subAccounts;
  mint?: typeof mintKey;
  onMinted: (result: MintResult) => void;
  onClosed: () => void;
  returnFocus?: () => HTMLElement | null;
}

/** The IPs typed, one per line or separated by commas or spaces. */
export function parseIps(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((ip) => ip.trim())
    .filter((ip) => ip.length > 0);
}

export function mastersOf(keys: readonly KeyView[]): KeyView[] {
  return keys.filter((k) => k.status === 'active' && !k.masterKeyId);
}

export function openMintDialog(opts: MintDialogOptions): void {
  const list = opts.list ?? subAccounts;
  const mint = opts.mint ?? mintKey;
  const masters = mastersOf(opts.keys);
  let busy = false;
  let accounts: SubAccountsView | null = null;

  const masterSelect = h(
    'select',
    { id: 'mint-master', name: 'master' },
    h('option', { value: '' }, 'Choose a master key…'),
    ...masters.map((k) => h('option', { value: k.id }, `${k.label} (${exchangeName(k.exchange)}, ${k.keyHint})`)),
  );
  const masterNote = h('p', { class: 'help', id: 'mint-master-note', role: 'status' });
  const accountSelect = h('select', { id: 'mint-sub-account', name: 'subAccount', disabled: true });
  const trade = h('input', { type: 'radio', name: 'mint-perm', id: 'mint-perm-trade', value: 'trade', checked: true });
  const readOnly = h('input', { type: 'radio', name: 'mint-perm', id: 'mint-perm-read', value: 'read' });
  const ips = h('textarea', {
    id: 'mint-ips',
    name: 'ips',
    rows: 2,
    spellcheck: 'false',
    placeholder: 'e.g. 203.0.113.7 (the bot server’s address)',
    'aria-describedby': 'mint-ips-help',
  });
  const noIps = h('input', { type: 'checkbox', id: 'mint-no-ips', name: 'noIpWhitelist' });
  const noIpsText = h('span', { id: 'mint-no-ips-text' }, 'No IP whitelist: I accept what the exchanges do to such keys.');
  const label = h('input', {
    id: 'mint-label',
    name: 'label',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 200,
  });
  const rotation = h('input', {
    id: 'mint-rotation-days',
    name: 'rotationDays',
    type: 'text',
    inputmode: 'numeric',
    value: String(opts.defaultRotationDays ?? 90),
  });
  const autoRotate = h('input', { type: 'checkbox', id: 'mint-auto-rotate', name: 'autoRotate', checked: true });
  // Only where the exchange can give a key a lifetime (KuCoin): the key then dies by itself even
  // if nobody rotates it.
  const lifetime = h('select', { id: 'mint-expire-days', name: 'expireDays' });
  const lifetimeRow = h(
    'div',
    { class: 'field', hidden: true },
    h('label', { for: 'mint-expire-days' }, 'The exchange expires the key'),
    lifetime,
    h('p', { class: 'help' }, 'After this many days the key stops working even if nobody rotates it.'),
  );
  // The exchange's own 2FA code (Deribit's security keys): asked for only when the exchange asks.
  const exchangeCode = exchangeCodeField('mint-exchange-code', () => void (accounts?.ready ? create() : loadAccounts()));
  const code = codeField({ id: 'mint-code', onSubmit: () => void create() });
  code.row.hidden = !opts.guardEnrolled;
  const errorBox = h('p', { class: 'card-error dialog-error', id: 'mint-error', role: 'alert', hidden: true });
  const result = h('div', { id: 'mint-result', class: 'edit-result', role: 'status', 'aria-live': 'polite', hidden: true });
  const cancel = h('button', { type: 'button', id: 'mint-cancel', class: 'btn btn-secondary' }, 'Cancel');
  const createButton = h('button', { type: 'button', id: 'mint-create', class: 'btn btn-primary', disabled: true }, 'Create key');

  const field = (id: string, text: string, input: HTMLElement, help?: HTMLElement): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: id }, text), input, help ?? null);
  const form = h(
    'form',
    { class: 'edit-form', novalidate: true, autocomplete: 'off' },
    field('mint-master', 'Master key', masterSelect, masterNote),
    exchangeCode.row,
    field('mint-sub-account', 'Sub-account', accountSelect),
    h(
      'fieldset',
      { class: 'field' },
      h('legend', {}, 'Permissions'),
      h('label', { class: 'field-check' }, trade, ' Read and trade'),
      h('label', { class: 'field-check' }, readOnly, ' Read only'),
      h(
        'p',
        { class: 'help' },
        'Withdraw is never offered: a bot key does not need it, and the exchanges do not grant it to sub-account keys.',
      ),
    ),
    field(
      'mint-ips',
      'IP whitelist',
      ips,
      h('p', { class: 'help', id: 'mint-ips-help' }, 'The addresses the bot calls from. The key works from nowhere else.'),
    ),
    h('label', { class: 'field-check' }, noIps, ' ', noIpsText),
    field('mint-label', 'Label', label),
    field('mint-rotation-days', 'Rotate every (days)', rotation),
    lifetimeRow,
    h('label', { class: 'field-check' }, autoRotate, ' Rotate automatically (through the master, with nobody at the keyboard)'),
    code.row,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void create();
  });
  const modal = openModal(
    {
      id: 'mint-dialog',
      className: 'dialog-edit',
      labelledBy: 'mint-title',
      describedBy: 'mint-desc',
      onEscape: () => {
        if (!busy) close();
      },
      returnFocus: opts.returnFocus,
    },
    h('h2', { id: 'mint-title' }, 'Create a new key for a bot'),
    h(
      'p',
      { id: 'mint-desc', class: 'muted' },
      'A master key you added creates the key in one of its sub-accounts. Its secret goes straight into the keychain: you never see or copy it.',
    ),
    h('div', { class: 'edit-body' }, form, result, errorBox),
    h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), cancel, createButton),
  );

  function showError(err: IpcError | null): void {
    const master = masters.find((k) => k.id === masterSelect.value);
    exchangeCode.ask(err, master ? exchangeName(master.exchange) : 'The exchange');
    if (err && code.showError(err)) return;
    errorBox.textContent = err?.message ?? '';
    errorBox.hidden = !err;
  }

  /** The lifetime choices of the chosen master's exchange, "never" first. */
  function showLifetimes(): void {
    const master = masters.find((k) => k.id === masterSelect.value);
    const days = master ? keyLifetimes(master.exchange) : [];
    lifetime.replaceChildren(
      h('option', { value: '' }, 'Never'),
      ...days.map((d) => h('option', { value: String(d) }, `After ${d} days`)),
    );
    lifetimeRow.hidden = days.length === 0;
  }

  async function loadAccounts(): Promise<void> {
    accounts = null;
    showLifetimes();
    accountSelect.replaceChildren();
    accountSelect.disabled = true;
    createButton.disabled = true;
    showError(null);
    const id = masterSelect.value;
    if (!id) {
      masterNote.textContent = '';
      return;
    }
    masterNote.textContent = 'Asking the exchange for this master’s sub-accounts…';
    try {
      const view = await list(id, exchangeCode.read());
      if (masterSelect.value !== id) return; // Another master was chosen meanwhile.
      accounts = view;
      noIpsText.textContent = `No IP whitelist: I accept that ${view.noIpWarning}`;
      if (!view.ready) {
        masterNote.textContent = `This key cannot create bot keys yet: ${view.problems.join(' ')}`;
        return;
      }
      masterNote.textContent = view.accounts.length
        ? ''
        : 'This master has no sub-accounts: create one on the exchange’s website first.';
      view.accounts.forEach((a) =>
        accountSelect.append(h('option', { value: a.id, disabled: a.frozen }, a.frozen ? `${a.name} (frozen)` : a.name)),
      );
      accountSelect.disabled = view.accounts.length === 0;
      createButton.disabled = view.accounts.length === 0;
    } catch (e) {
      if (masterSelect.value !== id) return;
      masterNote.textContent = '';
      showError(toIpcError(e));
    }
  }

  function input(): MintInput {
    const days = Number.parseInt(rotation.value.trim(), 10);
    return {
      masterId: masterSelect.value,
      subAccount: accountSelect.value,
      label: label.value.trim(),
      trade: trade.checked,
      ips: parseIps(ips.value),
      noIpWhitelist: noIps.checked,
      rotationDays: Number.isFinite(days) ? days : null,
      autoRotate: autoRotate.checked,
      expireDays: lifetimeRow.hidden || lifetime.value === '' ? null : Number(lifetime.value),
    };
  }

  async function create(): Promise<void> {
    if (busy || !accounts?.ready) return;
    const typed = opts.guardEnrolled ? code.read() : null;
    if (opts.guardEnrolled && typed === null) return;
    busy = true;
    createButton.disabled = true;
    createButton.textContent = 'Creating…';
    showError(null);
    try {
      const minted = await mint(input(), typed, exchangeCode.read());
      code.clear();
      result.hidden = false;
      result.replaceChildren(
        h('p', {}, `Created “${minted.key.label}” (${minted.key.keyHint}): its secret is in the keychain.`),
        ...(minted.unverified ? [h('p', { class: 'card-error' }, `Not verified yet: ${minted.unverified}`)] : []),
        ...minted.notes.map((n) => h('p', { class: 'help' }, n)),
      );
      form.hidden = true;
      createButton.hidden = true;
      cancel.textContent = 'Done';
      opts.onMinted(minted);
    } catch (e) {
      createButton.disabled = false;
      showError(toIpcError(e));
    } finally {
      busy = false;
      createButton.textContent = 'Create key';
    }
  }

  function close(): void {
    code.clear();
    modal.close();
    opts.onClosed();
  }

  masterSelect.addEventListener('change', () => void loadAccounts());
  cancel.addEventListener('click', () => {
    if (!busy) close();
  });
  createButton.addEventListener('click', () => void create());
  if (masters.length === 1) {
    masterSelect.value = masters[0].id;
    void loadAccounts();
  }
  masterSelect.focus();
}
