// The pieces that show an inspection, shared by the wizard's confirm step and the key cards. Stable
// selectors for tests: `.finding[data-code][data-severity]` and `.permission[data-permission]`.

import type { Finding, Permission } from '../api/types';
import { h } from './dom';
import { SEVERITY_LABELS, permissionLabel, sortFindings, sortPermissions } from './risk';

export function renderFinding(f: Finding, extraClass = ''): HTMLLIElement {
  return h(
    'li',
    {
      class: `finding severity-${f.severity}${extraClass ? ` ${extraClass}` : ''}`,
      'data-code': f.code,
      'data-severity': f.severity,
    },
    h('span', { class: 'severity-tag' }, SEVERITY_LABELS[f.severity] ?? f.severity),
    h('span', { class: 'finding-message' }, f.message),
  );
}

/** Highest severity first; the first one is marked `.finding-primary`. Null when there is none. */
export function renderFindings(findings: readonly Finding[], attrs: Record<string, string> = {}): HTMLUListElement | null {
  if (findings.length === 0) return null;
  const sorted = sortFindings(findings);
  return h(
    'ul',
    { class: 'findings', 'aria-label': 'Findings', ...attrs },
    ...sorted.map((f, i) => renderFinding(f, i === 0 ? 'finding-primary' : '')),
  );
}

/** Permission badges; withdraw is the only red one. */
export function renderPermissions(permissions: readonly Permission[]): HTMLUListElement {
  const sorted = sortPermissions(permissions);
  if (sorted.length === 0)
    return h('ul', { class: 'permissions', 'aria-label': 'Permissions' }, h('li', { class: 'muted' }, 'None reported'));
  return h(
    'ul',
    { class: 'permissions', 'aria-label': 'Permissions' },
    ...sorted.map((p) => h('li', { class: `permission permission-${p}`, 'data-permission': p }, permissionLabel(p))),
  );
}
