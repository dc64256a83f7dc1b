// Emergency revoke (`#revoke-dialog`): the plan per key (remote / local only / manual) with a
// checkbox each and one 2FA code → live progress per key from Rust's channel → the report with the
// checklist per exchange, which Rust can save to a file. Without 2FA the revoke still runs (being
// unable to revoke is the harm): the user types REVOKE instead of a code, which Rust accepts only
// while 2FA is not set up and audits as unguarded; the dialog says so and offers the setup.
//
// Links are shown as text with a "Copy link" button: nothing navigates inside the web view.

import { emergencyRevoke, guardStatus, revokePlan, toIpcError } from '../api/commands';
import type { RevokePlanItem, RevokeProgress, RevokeReport } from '../api/types';
import { exchangeName } from '../dashboard/format';
import { codeField, type CodeField } from '../guard/code-field';
import { phraseField } from '../guard/phrase-field';
import { h } from '../lib/dom';
import { openModal, type Modal } from '../lib/modal';
import { renderRevokeReport } from './report-view';
import { actionText, ProgressCount, reportSummary, stageText } from './texts';

export { REMINDER } from './texts';
export { renderRevokeReport } from './report-view';

export interface RevokeDialogOptions {
  returnFocus?: () => HTMLElement | null;
  /** The user asked to set up 2FA: open enrolment once this dialog has closed. */
  onEnroll: () => void;
  /** The dialog is gone; `ran` is true if anything may have changed (refresh the keys). */
  onClosed: (ran: boolean) => void;
  /** Open straight on this report (after "Retry revoke" or "Wipe locally anyway" on a card). */
  report?: RevokeReport;
}

type Phase = 'loading' | 'plan' | 'running' | 'report' | 'failed';

export function openRevokeDialog(opts: RevokeDialogOptions): { close: () => void } {
  let phase: Phase = 'loading';
  let ran = false;
  let closed = false;
  let field: CodeField | null = null;

  const title = h('h2', { id: 'revoke-title' }, 'Emergency revoke');
  const body = h('div', { class: 'revoke-body' });
  const errorBox = h('p', { id: 'revoke-error', class: 'card-error dialog-error', role: 'alert', hidden: true });
  const status = h('p', { id: 'revoke-status', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const footer = h('div', { class: 'dialog-footer' });
  const modal: Modal = openModal(
    {
      id: 'revoke-dialog',
      role: 'alertdialog',
      labelledBy: 'revoke-title',
      describedBy: 'revoke-intro',
      className: 'dialog-revoke',
      onEscape: () => {
        if (phase !== 'running') close();
      },
      returnFocus: opts.returnFocus,
    },
    title,
    body,
    errorBox,
    status,
    footer,
  );

  function setPhase(p: Phase): void {
    phase = p;
    modal.dialog.setAttribute('data-phase', p);
    modal.dialog.setAttribute('aria-busy', String(p === 'loading' || p === 'running'));
  }

  function close(): void {
    if (closed || phase === 'running') return;
    closed = true;
    field?.clear();
    modal.close();
    opts.onClosed(ran);
  }

  function showError(message: string | null): void {
    errorBox.textContent = message ?? '';
    errorBox.hidden = !message;
  }

  const closeButton = (label = 'Cancel', id = 'revoke-cancel'): HTMLButtonElement => {
    const b = h('button', { type: 'button', id, class: 'btn btn-secondary' }, label);
    b.addEventListener('click', () => close());
    return b;
  };

  // ---- plan ---------------------------------------------------------------------------------------

  async function load(): Promise<void> {
    setPhase('loading');
    showError(null);
    body.replaceChildren(
      h(
        'p',
        { id: 'revoke-intro', class: 'loading' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        'Preparing the plan…',
      ),
    );
    footer.replaceChildren(h('span', { class: 'spacer' }), closeButton());
    try {
      const [plan, guard] = await Promise.all([revokePlan(null), guardStatus().catch(() => null)]);
      if (!closed) showPlan(plan, guard ? guard.enrolled : true);
    } catch (raw) {
      if (closed) return;
      setPhase('failed');
      body.replaceChildren(h('p', { id: 'revoke-intro' }, 'The plan could not be prepared.'));
      showError(toIpcError(raw).message);
      const retry = h('button', { type: 'button', id: 'revoke-retry-plan', class: 'btn btn-primary' }, 'Try again');
      retry.addEventListener('click', () => void load());
      footer.replaceChildren(h('span', { class: 'spacer' }), closeButton(), retry);
      retry.focus();
    }
  }

  /** Without 2FA: what the typed confirmation means, and the way to set 2FA up. */
  function unguardedNote(): HTMLElement {
    const enroll = h(
      'button',
      { type: 'button', id: 'revoke-enroll', class: 'btn btn-secondary btn-small' },
      'Set up 2FA instead',
    );
    enroll.addEventListener('click', () => {
      opts.onEnroll();
      close();
    });
    return h(
      'div',
      { id: 'revoke-needs-2fa', class: 'notice notice-warning' },
      h(
        'p',
        {},
        h('strong', {}, '2FA is not set up. '),
        'Revoking still works: type REVOKE below to confirm. Anyone at this computer could do the same, which is why setting up 2FA is worth a minute. This run is written to the audit log as unguarded.',
      ),
      enroll,
    );
  }

  function showPlan(plan: RevokePlanItem[], enrolled: boolean): void {
    setPhase('plan');
    showError(null);
    if (plan.length === 0) {
      body.replaceChildren(h('p', { id: 'revoke-intro' }, 'There are no active or quarantined keys to revoke.'));
      const ok = closeButton('Close');
      footer.replaceChildren(h('span', { class: 'spacer' }), ok);
      ok.focus();
      return;
    }
    const boxes: HTMLInputElement[] = [];
    const items = plan.map((p) => {
      const box = h('input', {
        type: 'checkbox',
        class: 'plan-select',
        value: p.id,
        checked: true,
        id: `plan-${p.id}`,
        'aria-describedby': `plan-${p.id}-action`,
      });
      box.checked = true;
      boxes.push(box);
      return h(
        'li',
        { class: `plan-item action-${p.action}`, 'data-id': p.id, 'data-action': p.action },
        h(
          'label',
          { class: 'plan-label', for: `plan-${p.id}` },
          box,
          h(
            'span',
            { class: `exchange-mark exchange-${p.exchange}`, 'aria-hidden': 'true' },
            exchangeName(p.exchange).slice(0, 1),
          ),
          h(
            'span',
            { class: 'plan-text' },
            h('span', { class: 'plan-name' }, p.label, ' ', h('code', { class: 'key-hint' }, p.keyHint)),
            h('span', { class: 'plan-action', id: `plan-${p.id}-action` }, actionText(p.action, p.exchange)),
            p.detail ? h('span', { class: 'plan-detail' }, p.detail) : null,
          ),
        ),
      );
    });
    const count = h('p', { id: 'revoke-count', class: 'muted', 'aria-live': 'polite' });
    const confirm = h('button', { type: 'button', id: 'revoke-confirm', class: 'btn btn-danger btn-large' });
    const selected = () => boxes.filter((b) => b.checked).map((b) => b.value);
    const update = (): void => {
      const n = selected().length;
      count.textContent = `${n} of ${boxes.length} ${boxes.length === 1 ? 'key' : 'keys'} selected`;
      confirm.replaceChildren(n === 1 ? 'Revoke 1 key' : `Revoke ${n} keys`);
      confirm.disabled = n === 0;
    };
    boxes.forEach((b) => b.addEventListener('change', update));

    field = enrolled
      ? codeField({
          onSubmit: () => void run(),
          onEnroll: () => {
            opts.onEnroll();
            close();
          },
        })
      : phraseField({ onSubmit: () => void run() });
    body.replaceChildren(
      h(
        'p',
        { id: 'revoke-intro' },
        'Each selected key is shut down now: revoked on the exchange where its API allows, and its secret wiped from your keychain. ',
        'Keys the exchange does not confirm are kept in quarantine so you can retry.',
      ),
      h('ul', { class: 'plan-list', id: 'revoke-plan', 'aria-label': 'What will happen to each key' }, ...items),
      count,
      ...(enrolled ? [] : [unguardedNote()]),
      field.row,
    );
    const cancel = closeButton();
    footer.replaceChildren(h('span', { class: 'spacer' }), cancel, confirm);
    confirm.addEventListener('click', () => void run());
    update();
    field.focus();

    async function run(): Promise<void> {
      if (!field || phase !== 'plan') return;
      const ids = selected();
      if (ids.length === 0) {
        field.setError('Select at least one key to revoke.');
        return;
      }
      const code = field.read();
      if (!code) return;
      showError(null);
      const chosen = plan.filter((p) => ids.includes(p.id));
      const progress = showProgress(chosen);
      try {
        const report = await emergencyRevoke(code, ids, progress);
        field.clear();
        ran = true;
        showReport(report);
      } catch (raw) {
        const err = toIpcError(raw);
        if (err.kind === 'guard' || err.kind === 'guard_missing') {
          // Rust refused the code before touching anything: back to the plan, the choice kept.
          setPhase('plan');
          body.replaceChildren(...planNodes);
          footer.replaceChildren(...footerNodes);
          field.showError(err);
          return;
        }
        ran = true;
        setPhase('failed');
        showError(`${err.message} Some keys may have been revoked: check the key list and the audit log.`);
        footer.replaceChildren(h('span', { class: 'spacer' }), closeButton('Close', 'revoke-done'));
        document.getElementById('revoke-done')?.focus();
      }
    }
    // Kept to come back to after a wrong code.
    const planNodes = [...body.childNodes];
    const footerNodes = [...footer.childNodes];
  }

  // ---- progress -----------------------------------------------------------------------------------

  function showProgress(chosen: RevokePlanItem[]): (p: RevokeProgress) => void {
    setPhase('running');
    title.textContent = 'Revoking…';
    const rows = new Map<string, { li: HTMLElement; stage: HTMLElement; message: HTMLElement; plan: RevokePlanItem }>();
    const list = h(
      'ul',
      { id: 'revoke-progress', class: 'progress-list', 'aria-label': 'Progress per key' },
      ...chosen.map((p) => {
        const stage = h('span', { class: 'progress-stage' }, stageText('planned', p.exchange, p.action));
        const message = h('span', { class: 'progress-message' });
        const li = h(
          'li',
          { class: 'progress-item', 'data-id': p.id, 'data-stage': 'planned' },
          h('span', { class: 'progress-mark', 'aria-hidden': 'true' }),
          h(
            'span',
            { class: 'progress-text' },
            h('span', { class: 'plan-name' }, p.label, ' ', h('code', { class: 'key-hint' }, p.keyHint)),
            stage,
            message,
          ),
        );
        rows.set(p.id, { li, stage, message, plan: p });
        return li;
      }),
    );
    body.replaceChildren(
      h(
        'p',
        { id: 'revoke-intro' },
        'Working on the selected keys. Keep Latchkey open until the report appears; if it is closed, the job resumes on the next start.',
      ),
      list,
    );
    // In the footer, which never scrolls away: how many keys are finished, as a bar and in words.
    const count = new ProgressCount(rows.size);
    const meter = h('progress', {
      id: 'revoke-meter',
      class: 'revoke-meter',
      max: count.total,
      value: 0,
      'aria-labelledby': 'revoke-counter',
    });
    const counter = h('span', { id: 'revoke-counter', class: 'revoke-counter' }, count.text());
    footer.replaceChildren(h('span', { class: 'spinner', 'aria-hidden': 'true' }), meter, counter);
    list.setAttribute('tabindex', '-1');
    list.focus();
    return (p: RevokeProgress) => {
      const row = rows.get(p.id);
      if (!row || closed) return;
      row.li.setAttribute('data-stage', p.stage);
      row.stage.textContent = stageText(p.stage, row.plan.exchange, row.plan.action);
      // A stage without words ("done") keeps the last thing Rust said about the key.
      if (p.message) row.message.textContent = p.message;
      if (count.record(p.id, p.stage)) {
        meter.value = count.done;
        counter.textContent = count.text();
        status.textContent = `${count.text()}.`;
      }
    };
  }

  // ---- report -------------------------------------------------------------------------------------

  function showReport(report: RevokeReport): void {
    if (closed) return;
    setPhase('report');
    title.textContent = 'Emergency revoke: report';
    body.replaceChildren(renderReport(report));
    const done = closeButton('Close', 'revoke-done');
    footer.replaceChildren(h('span', { class: 'spacer' }), done);
    status.textContent = reportSummary(report);
    document.getElementById('revoke-report')?.focus();
  }

  function renderReport(report: RevokeReport): HTMLElement {
    return renderRevokeReport(report, showError);
  }

  if (opts.report) {
    ran = true;
    showReport(opts.report);
  } else {
    void load();
  }
  return { close };
}
