// The window's header: brand, the main actions, the count of keys still live after a revoke, and
// the 2FA reminder. Only the elements: app.ts wires what they do.

import logoUrl from '../assets/logo.svg';
import { h, icon } from '../lib/dom';

const SHIELD = ['M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6l8-3z', 'M9 12l2 2 4-4'];
const LIST = ['M8 6h12', 'M8 12h12', 'M8 18h12', 'M4 6h.01', 'M4 12h.01', 'M4 18h.01'];
const ALERT = ['M12 3l10 18H2L12 3z', 'M12 10v4', 'M12 17h.01'];
const GEAR = [
  'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z',
  'M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z',
];

export interface Header {
  element: HTMLElement;
  addButton: HTMLButtonElement;
  auditButton: HTMLButtonElement;
  settingsButton: HTMLButtonElement;
  guardButton: HTMLButtonElement;
  revokeButton: HTMLButtonElement;
  /** Keys a revoke could not end at their exchange, counted in red until resolved. */
  stillLiveCount: HTMLElement;
  /** While keys exist without 2FA: a reminder in the (sticky) header, which cannot be dismissed. */
  enrollBanner: HTMLElement;
  enrollStart: HTMLButtonElement;
}

export function renderHeader(): Header {
  const addButton = h(
    'button',
    { type: 'button', id: 'add-key', class: 'btn btn-primary', 'aria-haspopup': 'dialog' },
    h('span', { 'aria-hidden': 'true', class: 'plus' }, '+'),
    ' Add key',
  );
  const auditButton = h(
    'button',
    { type: 'button', id: 'open-audit', class: 'btn btn-quiet', 'aria-pressed': 'false' },
    icon(LIST),
    h('span', { class: 'btn-text' }, 'Audit log'),
  );
  const settingsButton = h(
    'button',
    { type: 'button', id: 'open-settings', class: 'btn btn-quiet', 'aria-pressed': 'false' },
    icon(GEAR),
    h('span', { class: 'btn-text' }, 'Settings'),
  );
  const guardButton = h(
    'button',
    { type: 'button', id: 'open-2fa', class: 'btn btn-quiet', 'aria-haspopup': 'dialog' },
    icon(SHIELD),
    h('span', { class: 'btn-text' }, '2FA'),
  );
  const revokeButton = h(
    'button',
    { type: 'button', id: 'emergency-revoke', class: 'btn btn-danger btn-emergency', 'aria-haspopup': 'dialog' },
    icon(ALERT),
    h('span', {}, 'Emergency revoke'),
  );
  const stillLiveCount = h('span', { id: 'still-live-count', class: 'still-live-count', role: 'status', hidden: true });
  const enrollStart = h(
    'button',
    { type: 'button', id: 'enroll-banner-start', class: 'btn btn-primary btn-small' },
    'Set up 2FA',
  );
  const enrollBanner = h(
    'div',
    { id: 'enroll-banner', class: 'header-reminder', role: 'region', 'aria-label': 'Two-factor authentication', hidden: true },
    h(
      'p',
      { class: 'header-reminder-text' },
      h('strong', {}, '2FA is not set up. '),
      'Anyone at this computer can revoke your keys by typing REVOKE; revealing, copying, rotating and deleting stay locked until you set it up.',
    ),
    enrollStart,
  );
  const element = h(
    'header',
    { class: 'app-header' },
    h(
      'div',
      { class: 'app-header-row' },
      h(
        'div',
        { class: 'brand' },
        h('img', { src: logoUrl, alt: '', class: 'logo', width: 28, height: 28 }),
        h('h1', {}, 'Latchkey'),
        h('span', { class: 'tagline' }, 'Exchange API keys, kept in your OS keychain'),
      ),
      h(
        'nav',
        { class: 'header-actions', 'aria-label': 'Main' },
        stillLiveCount,
        auditButton,
        settingsButton,
        guardButton,
        addButton,
        revokeButton,
      ),
    ),
    enrollBanner,
  );
  return {
    element,
    addButton,
    auditButton,
    settingsButton,
    guardButton,
    revokeButton,
    stillLiveCount,
    enrollBanner,
    enrollStart,
  };
}
