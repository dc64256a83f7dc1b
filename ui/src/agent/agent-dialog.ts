// The key card's "Signing agent…": the bots that trade with this key through Latchkey's signing
// agent (each revocable on its own), and new placeholders for one more bot, issued with a 2FA code.
// The placeholders never reach the page: Rust keeps them while the dialog is open and puts each part
// on the clipboard itself; the page shows the base URL and a masked hint of the placeholder key.

import { agentBots, copyAgentPlaceholder, forgetAgentPlaceholder, issueAgentBot, revokeAgentBot } from '../api/agent';
import type { AgentBotView, IpcError, IssuedBotView, KeyView, PlaceholderPart } from '../api/types';
import { exchangeName } from '../dashboard/format';
import { askCode } from '../guard/ask-code';
import { h } from '../lib/dom';
import { copyButton } from '../lib/copy-button';
import { openModal } from '../lib/modal';

/** A bot name as Rust accepts it (`agent::valid_bot_name`); checked here only to say so sooner. */
export function botNameProblem(name: string): string | null {
  const n = name.trim();
  if (!n) return 'Give the bot a name, e.g. grid-bot.';
  if (n.length > 64 || !/^[A-Za-z0-9._-]+$/.test(n)) {
    return 'A bot name is 1 to 64 letters, digits, “-”, “_” or “.”.';
  }
  return null;
}

export interface AgentDialogOptions {
  onEnroll?: () => void;
  returnFocus: () => HTMLElement | null;
  /** Says something to screen readers (the app's live region). */
  announce?: (text: string) => void;
}

/** The list of the key's bots, each with its Revoke button. */
function botList(bots: AgentBotView[], onRevoked: (name: string) => void): HTMLElement {
  const status = h('p', { class: 'muted agent-bots-status', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'agent-bots' });
  const empty = h('p', { class: 'muted agent-bots-empty' }, 'No bot uses this key through the agent yet.');
  const refreshEmpty = (): void => {
    empty.hidden = list.children.length > 0;
  };
  for (const bot of bots) {
    const revoke = h(
      'button',
      { type: 'button', class: 'btn btn-quiet btn-small revoke-agent-bot', 'data-bot': bot.name },
      'Revoke',
    );
    revoke.setAttribute('aria-label', `Revoke bot ${bot.name}: the agent refuses it from its next request`);
    const row = h(
      'li',
      { class: 'agent-bot', 'data-bot': bot.name },
      h('span', { class: 'agent-bot-name mono' }, bot.name),
      h('span', { class: 'muted' }, ` issued ${new Date(bot.issuedAt).toLocaleDateString()}`),
      ...(bot.host ? [h('span', { class: 'muted agent-bot-host' }, ` · on host ${bot.host}`)] : []),
      revoke,
    );
    revoke.addEventListener('click', () => {
      revoke.disabled = true;
      revokeAgentBot(bot.name).then(
        () => {
          row.remove();
          refreshEmpty();
          status.textContent = `Bot “${bot.name}” revoked: the agent refuses its placeholders from now on.`;
          onRevoked(bot.name);
        },
        (err: IpcError) => {
          revoke.disabled = false;
          status.textContent = err.message;
        },
      );
    });
    list.appendChild(row);
  }
  refreshEmpty();
  return h('div', { class: 'agent-bots-box' }, list, empty, status);
}

/** Opens the dialog; resolves once it is closed (after the issued placeholders, if any). */
export async function startAgent(key: KeyView, opts: AgentDialogOptions): Promise<void> {
  let bots: AgentBotView[] = [];
  let listError: string | null = null;
  try {
    bots = await agentBots(key.id);
  } catch (e) {
    listError = (e as IpcError).message;
  }
  const name = h('input', {
    id: 'agent-bot-name',
    type: 'text',
    class: 'input',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 64,
    placeholder: 'grid-bot',
  });
  const issued = askCode<IssuedBotView>({
    ids: { dialog: 'agent-dialog', title: 'agent-title', cancel: 'agent-cancel', confirm: 'agent-issue' },
    title: `Signing agent for “${key.label}”`,
    body: [
      h(
        'p',
        {},
        `A bot given placeholders trades through Latchkey’s signing agent on this computer instead of ${exchangeName(key.exchange)} directly. It never holds this key’s secret; withdrawals, transfers and key management are always refused.`,
      ),
      listError ? h('p', { class: 'card-error' }, listError) : botList(bots, (n) => opts.announce?.(`Bot ${n} revoked.`)),
      h('label', { class: 'field-label', for: 'agent-bot-name' }, 'New bot’s name'),
      name,
      h('p', { class: 'muted' }, 'Enter a 2FA code to issue its placeholders. You copy them next; they are not shown.'),
    ],
    confirmLabel: 'Issue placeholders',
    busyLabel: 'Issuing…',
    run: (code) => {
      const problem = botNameProblem(name.value);
      if (problem) return Promise.reject(Object.assign(new Error(problem), { kind: 'agent', message: problem }));
      return issueAgentBot(key.id, name.value.trim(), code);
    },
    onEnroll: opts.onEnroll,
    returnFocus: opts.returnFocus,
  });
  // The name comes first; the dialog focused the code field.
  name.focus();
  const view = await issued;
  if (!view) return;
  opts.announce?.(`Placeholders issued for bot ${view.bot}.`);
  await showIssued(view, opts.returnFocus);
}

const PART_WORDS: Record<PlaceholderPart, string> = {
  baseUrl: 'base URL',
  apiKey: 'placeholder API key',
  secret: 'placeholder secret',
  passphrase: 'placeholder passphrase',
  envLines: 'placeholders as .env lines',
};

/** What to give the bot, with Copy buttons; Rust drops the placeholders when it closes. */
export function showIssued(view: IssuedBotView, returnFocus: () => HTMLElement | null): Promise<void> {
  return new Promise((resolve) => {
    const copied = h('p', { class: 'muted agent-copied', role: 'status', 'aria-live': 'polite' });
    const errorBox = h('p', { class: 'card-error', role: 'alert', hidden: true });
    const copy = (part: PlaceholderPart): HTMLElement =>
      copyButton(
        PART_WORDS[part],
        () => copyAgentPlaceholder(part),
        { status: copied, errorBox },
        {
          class: 'btn btn-secondary btn-small copy-placeholder',
          'data-part': part,
        },
      );
    const row = (title: string, value: HTMLElement | null, part: PlaceholderPart): HTMLElement =>
      h(
        'div',
        { class: 'enrolment-row' },
        h('span', { class: 'enrolment-name' }, title),
        value ?? h('span', { class: 'muted enrolment-value' }, 'not shown'),
        copy(part),
      );
    const minutes = Math.max(1, Math.round(view.copyableForSecs / 60));
    const done = h('button', { type: 'button', id: 'agent-issued-done', class: 'btn btn-primary' }, 'Done');
    const modal = openModal(
      {
        id: 'agent-issued',
        labelledBy: 'agent-issued-title',
        describedBy: 'agent-issued-desc',
        onEscape: () => finish(),
        onWindowClose: () => void forgetAgentPlaceholder(),
        returnFocus,
      },
      h('h2', { id: 'agent-issued-title' }, `Bot “${view.bot}” may trade with “${view.label}”`),
      h(
        'div',
        { id: 'agent-issued-desc', class: 'dialog-body' },
        h(
          'p',
          { class: 'enrolment-warning' },
          `Copy them into the bot’s config now: they can be copied for ${minutes} minutes, until this dialog closes, and are never shown. They are worthless without this Latchkey.`,
        ),
        h(
          'p',
          {},
          'Point the bot at the agent’s base URL instead of the exchange’s (the README’s “signing agent” section has the lines for CCXT and Freqtrade).',
        ),
      ),
      row('Base URL', h('code', { id: 'agent-base-url', class: 'mono enrolment-value' }, view.baseUrl), 'baseUrl'),
      row('API key', h('code', { id: 'agent-key-hint', class: 'mono enrolment-value' }, view.keyHint), 'apiKey'),
      h(
        'div',
        { class: 'agent-parts' },
        row('Secret', null, 'secret'),
        view.hasPassphrase ? row('Passphrase', null, 'passphrase') : null,
        row('All, as .env lines', null, 'envLines'),
      ),
      copied,
      errorBox,
      h('div', { class: 'dialog-footer' }, h('span', { class: 'spacer' }), done),
    );
    let closed = false;
    function finish(): void {
      if (closed) return;
      closed = true;
      void forgetAgentPlaceholder().catch(() => undefined);
      modal.close();
      resolve();
    }
    done.addEventListener('click', finish);
    done.focus();
  });
}
