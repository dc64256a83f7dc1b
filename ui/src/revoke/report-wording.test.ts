// Issue 11, item 6: a rotation's report reads as routine, an emergency's as an incident, and no
// text a person reads shows an internal name (camelCase or snake_case).
import { describe, expect, it } from 'vitest';

import type { RevokeReport } from '../api/types';
import { ACTIONS, actionLabel } from '../audit/audit-view';
import type { Action } from '../api/types';
import { renderRevokeReport } from './report-view';
import { REMINDER } from './texts';

const report = (kind: RevokeReport['kind']): RevokeReport => ({
  jobId: 'job-1',
  kind,
  startedAt: '2026-12-01T09:00:00Z',
  finishedAt: '2026-12-01T09:00:03Z',
  items: [
    {
      id: 'k1',
      label: 'grid bot',
      exchange: 'bybit',
      keyHint: 'BCQH…Z9Z9',
      outcome: 'revoked',
      message:
        'The old key was retired: revoked at Bybit (the key deleted itself through the API) and proved by its own signed call; secret wiped.',
      manualUrl: null,
      steps: [],
      provedAt: '2026-12-01T09:00:02Z',
      actions: [],
    },
    {
      id: 'k2',
      label: 'okx bot',
      exchange: 'okx',
      keyHint: 'a1b2…c3d4',
      outcome: 'wiped_locally',
      message: 'Secret wiped here without proof: the key still works at OKX. Delete it on the website.',
      manualUrl: null,
      steps: [],
      provedAt: null,
      actions: [],
    },
  ],
  checklist: [],
  servers: [],
});

/** Words that look like code: camelCase or snake_case. */
const codeWords = (text: string): string[] =>
  text
    .split(/\s+/)
    .map((w) => w.replace(/^[^\w]+|[^\w]+$/g, ''))
    .filter((w) => /[a-z][A-Z]/.test(w) || /\w_\w/.test(w));

describe('report wording', () => {
  it('lists what emergency revoke did on the OpenBao server, failures with what to do', () => {
    const el = renderRevokeReport(
      {
        ...report('revoke'),
        servers: [
          {
            label: 'grid bot',
            text: 'every version and the metadata destroyed at secret/data/latchkey/grid-bot',
            ok: true,
            error: null,
          },
          {
            label: 'grid bot',
            text: "host 'vps1' removed: its token revoked, its role and policy deleted",
            ok: false,
            error: 'Cannot reach OpenBao. Remove its access by hand: `latchkey host remove vps1`.',
          },
        ],
      },
      () => {},
    );
    const steps = [...el.querySelectorAll('#revoke-servers li')].map((li) => li.textContent);
    expect(steps).toEqual([
      'Done: every version and the metadata destroyed at secret/data/latchkey/grid-bot',
      "Failed: host 'vps1' removed: its token revoked, its role and policy deletedCannot reach OpenBao. Remove its access by hand: `latchkey host remove vps1`.",
    ]);
    expect(renderRevokeReport(report('revoke'), () => {}).querySelector('#revoke-servers'), 'none: no section').toBeNull();
  });

  it('shows the password reminder after an emergency only', () => {
    document.body.innerHTML = '';
    const emergency = renderRevokeReport(report('revoke'), () => {});
    document.body.append(emergency);
    expect(emergency.querySelector('#revoke-reminder')?.textContent).toBe(REMINDER);
    const rotation = renderRevokeReport(report('rotation'), () => {});
    expect(rotation.querySelector('#revoke-reminder')).toBeNull();
    expect(rotation.textContent).not.toContain('password');
    expect(rotation.querySelector('#revoke-checklist'), 'nothing to finish on a website').toBeNull();
  });

  it('shows no internal names in a report or the audit log', () => {
    for (const kind of ['revoke', 'rotation', 'retry', 'wipeAnyway', 'confirm'] as const) {
      const el = renderRevokeReport(report(kind), () => {});
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      const parts: string[] = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) parts.push(n.textContent ?? '');
      const text = parts.join(' ');
      expect(text).toContain('Proved revoked');
      expect(codeWords(text)).toEqual([]);
    }
    // Every action Rust writes (`ACTIONS` is typed by the generated `Action`).
    const actions = Object.keys(ACTIONS) as Action[];
    for (const a of actions) expect(codeWords(actionLabel(a)), a).toEqual([]);
    expect(actionLabel('rotate')).toBe('Key rotated');
  });
});
