// A modal dialog: a backdrop, role=dialog with aria-modal, the rest of the app made inert, Tab kept
// inside, Escape handed to the owner, and focus given back to where it was on close. A dialog may
// open over another (a "discard what you typed?" question over the wizard): the one below is inert
// until the top one closes, and only the top one pulls stray focus back.

import { focusables, h } from './dom';

export interface ModalOptions {
  id: string;
  labelledBy: string;
  describedBy?: string;
  role?: 'dialog' | 'alertdialog';
  className?: string;
  /** Escape pressed inside the dialog. */
  onEscape: () => void;
  /** Where focus goes on close when it did not come from a focused control (WebKit does not focus
   * buttons on mouse click, so `document.activeElement` is often just the body). */
  returnFocus?: () => HTMLElement | null;
  /** The window closes (or the page goes away) while the dialog is open: the dialog's last word,
   * e.g. telling Rust to drop what the dialog began. */
  onWindowClose?: () => void;
}

export interface Modal {
  dialog: HTMLDivElement;
  close: () => void;
}

/** Open dialogs' backdrops, bottom first. */
const stack: HTMLElement[] = [];

export function openModal(opts: ModalOptions, ...content: Node[]): Modal {
  const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const app = document.getElementById('app');
  const dialog = h('div', {
    id: opts.id,
    class: `dialog ${opts.className ?? ''}`.trim(),
    role: opts.role ?? 'dialog',
    'aria-modal': 'true',
    'aria-labelledby': opts.labelledBy,
    'aria-describedby': opts.describedBy,
  });
  content.forEach((c) => dialog.appendChild(c));
  const backdrop = h('div', { class: 'backdrop' }, dialog);

  const onKeydown = (ev: KeyboardEvent): void => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      opts.onEscape();
    } else if (ev.key === 'Tab') {
      trapTab(dialog, ev);
    }
  };
  dialog.addEventListener('keydown', onKeydown);
  // Focus that escapes the dialog (a click on the backdrop, a stray programmatic focus) comes back.
  const onFocusIn = (ev: FocusEvent): void => {
    if (stack[stack.length - 1] !== backdrop) return;
    if (ev.target instanceof Node && !dialog.contains(ev.target)) focusables(dialog)[0]?.focus();
  };
  document.addEventListener('focusin', onFocusIn);
  const onPageHide = (): void => opts.onWindowClose?.();
  if (opts.onWindowClose) window.addEventListener('pagehide', onPageHide);

  app?.setAttribute('inert', '');
  app?.setAttribute('aria-hidden', 'true');
  stack[stack.length - 1]?.setAttribute('inert', '');
  stack.push(backdrop);
  document.body.appendChild(backdrop);
  document.body.classList.add('modal-open');

  let open = true;
  return {
    dialog,
    close: () => {
      if (!open) return;
      open = false;
      document.removeEventListener('focusin', onFocusIn);
      window.removeEventListener('pagehide', onPageHide);
      backdrop.remove();
      const at = stack.indexOf(backdrop);
      if (at >= 0) stack.splice(at, 1);
      stack[stack.length - 1]?.removeAttribute('inert');
      if (!document.querySelector('.backdrop')) {
        app?.removeAttribute('inert');
        app?.removeAttribute('aria-hidden');
        document.body.classList.remove('modal-open');
      }
      const back = previous && previous !== document.body && previous.isConnected ? previous : opts.returnFocus?.();
      back?.focus();
    },
  };
}

export function trapTab(root: HTMLElement, ev: KeyboardEvent): void {
  const items = focusables(root);
  if (items.length === 0) {
    ev.preventDefault();
    return;
  }
  const first = items[0];
  const last = items[items.length - 1];
  const active = document.activeElement;
  if (ev.shiftKey && (active === first || !root.contains(active))) {
    ev.preventDefault();
    last.focus();
  } else if (!ev.shiftKey && (active === last || !root.contains(active))) {
    ev.preventDefault();
    first.focus();
  }
}
