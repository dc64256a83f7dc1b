// The audit screen (`#audit-view`): every event, newest first, and whether the hash chain that links
// the entries is intact (`#audit-chain[data-ok]`).

import type { Action, AuditChain, AuditEntry, AuditLog } from '../api/types';
import { fullDate } from '../dashboard/format';
import { h } from '../lib/dom';

export function chainText(chain: AuditChain): string {
  if (chain.ok) return `Audit log intact (${chain.checked} ${chain.checked === 1 ? 'entry' : 'entries'} checked)`;
  if (chain.firstBroken === null && chain.anchor === 'truncated') return 'Audit log cut short: its newest entries were removed.';
  if (chain.firstBroken === null && chain.anchor === 'rewritten')
    return 'Audit log rewritten: its hashes were recomputed after entries were changed.';
  const where = chain.firstBroken !== null ? ` at entry #${chain.firstBroken}` : '';
  return `Audit log broken${where}: entries may have been changed or removed.`;
}

/** Whether the message below the headline is worth showing: always when broken, and when the log's
 * end could not be checked against its anchor. */
export function chainNeedsMessage(chain: AuditChain): boolean {
  return !chain.ok || chain.anchor === 'unavailable' || chain.anchor === 'not_anchored';
}

/** Words for every action Rust writes: a new `Action` in Rust fails the build until it has some. */
export const ACTIONS: Record<Action, string> = {
  add: 'Key added',
  delete: 'Key deleted',
  reveal: 'Secret revealed',
  verify: 'Key re-checked',
  rotate: 'Key rotated',
  snooze: 'Reminders snoozed',
  run: 'Key handed to a program',
  export: 'Key exported to a pipe',
  revoke: 'Key revoked',
  quarantine: 'Key quarantined',
  wipe: 'Secret wiped',
  guard_enroll: '2FA enrolled',
  guard_verify: '2FA code checked',
  guard_disable: '2FA disabled',
  bots_access: 'Bots access changed',
  audit_accept: 'Audit log accepted as it stands',
  guard_skip: '2FA setup skipped',
  unguarded: 'Revoke confirmed without 2FA',
  edit: 'Key edited',
  mint: 'Key minted',
  fix: 'Key fixed through its master',
  auto_rotate: 'Automatic rotation changed',
  lock_sub_account: 'Sub-account locked',
  deliver: 'Key delivered to servers',
  undeliver: 'Key removed from servers',
  host_access: 'Server host access changed',
  agent_issue: 'Bot credentials issued',
  agent_revoke_bot: 'Bot credentials revoked',
  agent_requests: 'Requests through the signing agent',
  agent_refusal: 'Refused by the signing agent',
};

export function actionLabel(action: Action): string {
  return ACTIONS[action];
}

export function renderAuditView(log: AuditLog, onBack: () => void): HTMLElement {
  const entries = [...log.entries].sort((a, b) => b.seq - a.seq);
  const back = h('button', { type: 'button', id: 'close-audit', class: 'btn btn-secondary btn-small' }, '← Back to keys');
  back.addEventListener('click', onBack);
  const chain = log.chain;
  return h(
    'section',
    { id: 'audit-view', class: 'audit-view', 'aria-labelledby': 'audit-title', tabindex: -1 },
    h(
      'div',
      { class: 'audit-top' },
      h('h2', { id: 'audit-title', class: 'section-title' }, 'Audit log ', h('span', { class: 'count' }, `(${entries.length})`)),
      h('span', { class: 'spacer' }),
      back,
    ),
    h(
      'div',
      {
        id: 'audit-chain',
        class: `chain ${chain.ok ? 'chain-ok' : 'chain-broken'}`,
        'data-ok': String(chain.ok),
        'data-anchor': chain.anchor ?? '',
        role: 'status',
      },
      h('span', { class: 'chain-mark', 'aria-hidden': 'true' }),
      h(
        'div',
        {},
        h('p', { class: 'chain-headline' }, chainText(chain)),
        chainNeedsMessage(chain) && chain.message ? h('p', { class: 'chain-message' }, chain.message) : null,
      ),
    ),
    entries.length === 0
      ? h('p', { class: 'muted' }, 'No events yet.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'audit-table' },
            h(
              'thead',
              {},
              h('tr', {}, ...['#', 'When', 'Action', 'Key', 'Outcome', 'Detail'].map((t) => h('th', { scope: 'col' }, t))),
            ),
            h('tbody', {}, ...entries.map((e) => row(e, chain))),
          ),
        ),
  );
}

function row(e: AuditEntry, chain: AuditChain): HTMLTableRowElement {
  const broken = !chain.ok && chain.firstBroken === e.seq;
  return h(
    'tr',
    { class: `audit-row${broken ? ' broken' : ''}`, 'data-seq': e.seq, 'data-action': e.action, 'data-outcome': e.outcome },
    h('td', { class: 'mono' }, e.seq),
    h('td', { title: e.at }, fullDate(e.at)),
    h('td', {}, actionLabel(e.action)),
    h('td', {}, e.label ?? (e.keyId ? h('code', {}, e.keyId) : '—')),
    h('td', {}, h('span', { class: `outcome outcome-${e.outcome.replace(/[^a-z0-9_-]/gi, '')}` }, e.outcome)),
    h('td', { class: 'audit-detail' }, e.detail),
  );
}
