// The card's "Bots may use this key" switch. The box shows what Rust stored; a click asks the app to
// change it (turning it on asks for a 2FA code) and the box follows once Rust has answered.

import type { KeyView } from '../api/types';
import { h } from '../lib/dom';

export function renderBotsToggle(key: KeyView, onChange?: (key: KeyView, allowed: boolean) => void): HTMLElement | null {
  if (key.status !== 'active' || !onChange) return null;
  const allowed = key.botsAllowed === true;
  const box = h('input', {
    type: 'checkbox',
    class: 'bots-allowed',
    checked: allowed,
    'aria-label': `Bots may use key ${key.label}`,
  });
  box.addEventListener('click', (ev) => {
    // Rust decides: the box changes only when the list is drawn again with its answer.
    ev.preventDefault();
    onChange(key, !allowed);
  });
  return h(
    'label',
    {
      class: `key-bots${allowed ? '' : ' bots-off'}`,
      title: allowed
        ? '`latchkey run` may hand this key to the commands you start. Untick to stop it.'
        : 'Bots may not use this key: `latchkey run` refuses it. Ticking asks for a 2FA code.',
    },
    box,
    allowed ? ' Bots may use this key' : ' Bots may not use this key',
  );
}

/** "Signing agent…": for an active key bots may use, on an exchange the agent serves (Rust says). */
export function renderAgentButton(key: KeyView, onAgent?: (key: KeyView) => void): HTMLElement | null {
  if (key.status !== 'active' || key.botsAllowed !== true || !key.agentServed || !onAgent) return null;
  const b = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-secondary btn-small agent-key',
      'aria-haspopup': 'dialog',
      'aria-label': `Signing agent for key ${key.label}: give a bot placeholders instead of the secret`,
      title: 'Bots trade through Latchkey’s signing agent and never hold the secret',
    },
    'Signing agent…',
  );
  b.addEventListener('click', () => onAgent(key));
  return b;
}
