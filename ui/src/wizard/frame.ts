// The wizard's frame around its steps: title, step list, banner slot, the panels, the 2FA panel
// and the footer's buttons, in one modal. `show` reflects the step and whether a save is under way.

import { h } from '../lib/dom';
import type { CheckState } from '../lib/exchange-check';
import { openModal, type Modal } from '../lib/modal';
import { Stepper } from '../lib/stepper';
import { STEPS, type Step } from './validate';

const STEP_TITLES: Record<Step | '2fa', string> = {
  exchange: 'Exchange',
  credentials: 'Credentials',
  details: 'Details',
  confirm: 'Confirm',
  '2fa': '2FA',
};

export interface FrameOptions {
  /** The dialog's heading (the chosen exchange changes it). */
  title: HTMLElement;
  panels: Record<Step, HTMLElement>;
  /** First use: enrolment is announced as the last step from the start, so it is no surprise. */
  enrolStep: boolean;
  onEscape: () => void;
  onWindowClose: () => void;
  returnFocus?: () => HTMLElement | null;
  /** Enter in a field (not on a button): the step's primary action. */
  onEnter: () => void;
}

export interface Frame {
  modal: Modal;
  root: HTMLElement;
  title: HTMLElement;
  form: HTMLFormElement;
  bannerSlot: HTMLElement;
  enrolPanel: HTMLElement;
  footer: HTMLElement;
  stepper: Stepper<Step | '2fa'>;
  cancelBtn: HTMLButtonElement;
  backBtn: HTMLButtonElement;
  nextBtn: HTMLButtonElement;
  saveBtn: HTMLButtonElement;
  /** Shows `step`'s panel and buttons. */
  show(step: Step): void;
  /** Save needs a successful check; while saving, nothing else can be pressed (`others` too). */
  syncButtons(saving: boolean, check: CheckState, others: readonly HTMLButtonElement[]): void;
  /** The 2FA step: the form's panels give way to the enrolment panel. */
  showEnrolStep(): void;
}

export function wizardFrame(o: FrameOptions): Frame {
  const stepper = new Stepper<Step | '2fa'>(o.enrolStep ? [...STEPS, '2fa'] : STEPS, STEP_TITLES, 'wizard-step-status');
  const enrolPanel = h('section', { class: 'panel', 'data-panel': '2fa', id: 'wizard-2fa', hidden: true });
  const cancelBtn = h('button', { type: 'button', id: 'wizard-cancel', class: 'btn btn-quiet' }, 'Cancel');
  const backBtn = h('button', { type: 'button', id: 'wizard-back', class: 'btn btn-secondary' }, 'Back');
  const nextBtn = h('button', { type: 'button', id: 'wizard-next', class: 'btn btn-primary' }, 'Next');
  const saveBtn = h('button', { type: 'button', id: 'wizard-save', class: 'btn btn-primary' }, 'Save key');
  const { title } = o;
  const form = h('form', { class: 'wizard-form', novalidate: true, autocomplete: 'off' }, ...STEPS.map((s) => o.panels[s]));
  const bannerSlot = h('div', { class: 'banner-slot' });
  const footer = h('div', { class: 'dialog-footer' }, cancelBtn, h('span', { class: 'spacer' }), backBtn, nextBtn, saveBtn);
  const modal = openModal(
    {
      id: 'wizard',
      labelledBy: 'wizard-title',
      describedBy: 'wizard-step-status',
      className: 'wizard',
      onEscape: o.onEscape,
      returnFocus: o.returnFocus,
      onWindowClose: o.onWindowClose,
    },
    h('div', { class: 'dialog-header' }, title, stepper.list),
    stepper.status,
    bannerSlot,
    form,
    enrolPanel,
    footer,
  );
  const root = modal.dialog;

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    o.onEnter();
  });
  // Enter moves on from any field; on buttons Enter keeps its usual meaning (activate the button).
  root.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.isComposing || ev.defaultPrevented) return;
    const t = ev.target;
    if (t instanceof HTMLButtonElement || t instanceof HTMLTextAreaElement) return;
    if (!(t instanceof HTMLInputElement || t instanceof HTMLSelectElement)) return;
    ev.preventDefault();
    o.onEnter();
  });

  const show = (step: Step): void => {
    root.setAttribute('data-step', step);
    for (const s of STEPS) o.panels[s].hidden = s !== step;
    stepper.show(step);
    backBtn.hidden = STEPS.indexOf(step) === 0;
    nextBtn.hidden = step === 'confirm';
    saveBtn.hidden = step !== 'confirm';
  };

  const syncButtons = (saving: boolean, check: CheckState, others: readonly HTMLButtonElement[]): void => {
    for (const b of [cancelBtn, backBtn, ...others]) b.disabled = saving;
    saveBtn.disabled = saving || check !== 'ok';
    saveBtn.setAttribute('aria-describedby', 'verify-title');
    root.setAttribute('aria-busy', String(saving || check === 'checking'));
  };

  const showEnrolStep = (): void => {
    root.setAttribute('data-step', '2fa');
    for (const s of STEPS) o.panels[s].hidden = true;
    form.hidden = true;
    stepper.show('2fa');
  };

  return {
    modal,
    root,
    title,
    form,
    bannerSlot,
    enrolPanel,
    footer,
    stepper,
    cancelBtn,
    backBtn,
    nextBtn,
    saveBtn,
    show,
    syncButtons,
    showEnrolStep,
  };
}
