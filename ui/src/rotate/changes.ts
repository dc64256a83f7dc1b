// How the new key differs from the old one (`Change`s from Rust): which need the user's explicit
// acknowledgement, their order, and the list the check step shows.

import type { Change } from '../api/types';
import { h } from '../lib/dom';
import { SEVERITY_LABELS, severityRank } from '../lib/risk';

/** Changes that weaken the key: always shown as warnings, whatever their severity. */
export const PROMINENT_CHANGES: readonly string[] = ['adds_withdraw', 'drops_ip_whitelist'];

/** High and critical changes need the user's explicit acknowledgement. */
export function needsAck(changes: readonly Change[]): boolean {
  return changes.some((c) => c.severity === 'high' || c.severity === 'critical');
}

/** Most severe first; at the same severity, the weakening changes (withdraw, IP whitelist) first. */
export function sortChanges(changes: readonly Change[]): Change[] {
  const prominent = (c: Change): number => (PROMINENT_CHANGES.includes(c.code) ? 1 : 0);
  return [...changes].sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || prominent(b) - prominent(a));
}

/** `#rotate-changes`: each change as `.change[data-code][data-severity]`, against the old key's hint. */
export function renderChanges(changes: readonly Change[], oldHint: string): HTMLElement {
  const sorted = sortChanges(changes);
  return h(
    'section',
    { id: 'rotate-changes', class: 'changes', 'aria-labelledby': 'rotate-changes-title' },
    h('h4', { id: 'rotate-changes-title' }, 'Compared with the old key ', h('code', { class: 'key-hint' }, oldHint)),
    sorted.length === 0
      ? h('p', { class: 'muted change-none' }, 'Same permissions, IP whitelist and account as the old key.')
      : h(
          'ul',
          { class: 'findings change-list' },
          ...sorted.map((c) => {
            const prominent = PROMINENT_CHANGES.includes(c.code);
            // The weakening changes read as warnings at least, even if Rust rated them lower.
            const shown = prominent && c.severity === 'fine' ? 'warning' : c.severity;
            return h(
              'li',
              {
                class: `finding change severity-${shown}${prominent ? ' change-prominent' : ''}`,
                'data-code': c.code,
                'data-severity': c.severity,
              },
              h('span', { class: 'severity-tag' }, SEVERITY_LABELS[shown] ?? shown),
              h('span', { class: 'finding-message' }, c.message),
            );
          }),
        ),
  );
}
