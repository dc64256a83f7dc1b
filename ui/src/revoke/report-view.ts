// The report of a revoke job (`#revoke-report`): outcome per key, the checklist per exchange, and
// "Save report". Shown by the emergency revoke dialog and by the guided rotation for the retired key.
// Links are shown as text with a "Copy link" button: nothing navigates inside the web view.

import { saveRevokeReport, toIpcError } from '../api/commands';
import type { RevokeReport } from '../api/types';
import { exchangeName, fullDate, provedText } from '../dashboard/format';
import { h } from '../lib/dom';
import { linkRow } from '../lib/link-row';
import { outcomeText, reportReminder, reportSummary } from './texts';

/** The report of a revoke job (`#revoke-report`): outcome per key, the checklist per exchange, and
 * "Save report". Also shown by the guided rotation for the retired key. `showError` shows the save's
 * failure in the owning dialog; `reminder` (null: none) the line about passwords and sessions, by
 * default after an emergency only. */
export function renderRevokeReport(
  report: RevokeReport,
  showError: (message: string | null) => void,
  reminder: string | null = reportReminder(report),
): HTMLElement {
  const save = h('button', { type: 'button', id: 'save-report', class: 'btn btn-secondary' }, 'Save report');
  const saved = h('p', { id: 'saved-report-path', class: 'muted saved-path', 'aria-live': 'polite', hidden: true });
  const saveReport = async (): Promise<void> => {
    save.disabled = true;
    showError(null);
    try {
      const path = await saveRevokeReport(report.jobId);
      saved.replaceChildren('Saved to ', h('code', {}, path));
      saved.hidden = false;
    } catch (raw) {
      showError(toIpcError(raw).message);
    } finally {
      save.disabled = false;
    }
  };
  save.addEventListener('click', () => void saveReport());
  return h(
    'section',
    { id: 'revoke-report', class: 'revoke-report', tabindex: -1, 'aria-labelledby': 'report-summary' },
    h('p', { id: 'report-summary', class: 'report-summary' }, reportSummary(report)),
    h(
      'ul',
      { class: 'report-list', 'aria-label': 'Outcome per key' },
      ...report.items.map((item) =>
        h(
          'li',
          {
            class: `report-item outcome-${item.outcome}`,
            'data-id': item.id,
            'data-label': item.label,
            'data-outcome': item.outcome,
          },
          h(
            'div',
            { class: 'report-head' },
            h(
              'span',
              { class: `exchange-mark exchange-${item.exchange}`, 'aria-hidden': 'true' },
              exchangeName(item.exchange).slice(0, 1),
            ),
            h('span', { class: 'plan-name' }, item.label, ' ', h('code', { class: 'key-hint' }, item.keyHint)),
            h('span', { class: 'spacer' }),
            h('span', { class: `badge badge-outcome badge-${item.outcome}` }, outcomeText(item.outcome)),
          ),
          item.provedAt
            ? h(
                'p',
                { class: 'report-proof', title: fullDate(item.provedAt) },
                `${exchangeName(item.exchange)}: ${provedText(item.provedAt)}`,
              )
            : null,
          item.message ? h('p', { class: 'report-message' }, item.message) : null,
          item.manualUrl ? linkRow(item.manualUrl) : null,
          item.steps.length ? h('ol', { class: 'steps-list' }, ...item.steps.map((s) => h('li', {}, s))) : null,
          item.outcome === 'quarantined'
            ? h(
                'p',
                { class: 'muted' },
                'The secret is kept so the revoke can be retried: use “Retry revoke” on the key’s card, or delete it on the exchange and choose “I deleted it on the website”.',
              )
            : null,
          item.outcome === 'manual' || item.outcome === 'unconfirmed'
            ? h(
                'p',
                { class: 'muted' },
                'Blocked from use, its secret kept: delete it on the website, then come back and choose “I deleted it — confirm” on the key’s card. Latchkey proves it with a signed call before it wipes the secret.',
              )
            : null,
        ),
      ),
    ),
    // Nothing to finish on any website and no advice (a rotation whose old key was revoked):
    // no empty "Finish on the exchanges" heading.
    !reminder && report.checklist.length === 0
      ? null
      : h(
          'section',
          { id: 'revoke-checklist', class: 'checklist', 'aria-labelledby': 'checklist-title' },
          h('h3', { id: 'checklist-title' }, 'Finish on the exchanges'),
          reminder ? h('p', { id: 'revoke-reminder', class: 'reminder' }, reminder) : null,
          report.checklist.length
            ? h(
                'ul',
                { class: 'checklist-list' },
                ...report.checklist.map((c) =>
                  h(
                    'li',
                    { class: 'checklist-item', 'data-exchange': c.exchange },
                    h('h4', {}, exchangeName(c.exchange)),
                    linkRow(c.url),
                    c.steps.length ? h('ol', { class: 'steps-list' }, ...c.steps.map((s) => h('li', {}, s))) : null,
                  ),
                ),
              )
            : null,
        ),
    report.servers.length
      ? h(
          'section',
          { id: 'revoke-servers', class: 'checklist', 'aria-labelledby': 'servers-title' },
          h('h3', { id: 'servers-title' }, 'Bots on servers (OpenBao)'),
          h(
            'ul',
            { class: 'checklist-list' },
            ...report.servers.map((step) =>
              h(
                'li',
                { class: `server-step ${step.ok ? 'server-step-ok' : 'server-step-failed'}` },
                h('strong', {}, step.ok ? 'Done: ' : 'Failed: '),
                step.text,
                step.error ? h('p', { class: 'report-message' }, step.error) : null,
              ),
            ),
          ),
        )
      : null,
    h('div', { class: 'report-save' }, save, saved),
  );
}
