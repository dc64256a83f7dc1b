// The key card's servers row: "Deliver to servers" / "Remove from servers", and which hosts can read
// the key with each one's last read ("vps-1 · read 2 min ago", "vps-2 · never read"). Shown only
// once a server is set up. Rendering only: the app decides what a click does.

import type { DeliveredView, HostReadView, KeyView } from '../api/types';
import { h } from '../lib/dom';
import { fullDate } from '../dashboard/format';

/** What the app knows about the servers for one card. */
export interface ServersCardInfo {
  /** Latchkey wrote this key to the configured server (its last version). */
  delivered: DeliveredView | null;
  /** The hosts that can read it; a string: why they could not be listed; undefined: loading. */
  reads?: HostReadView[] | string;
  /** A deliver or remove is under way. */
  busy?: boolean;
}

export interface ServersCardHandlers {
  onDeliver: (key: KeyView) => void;
  onUndeliver: (key: KeyView) => void;
  onRefreshReads: (key: KeyView) => void;
}

/** Whether "Deliver to servers" is offered: what `latchkey run` would hand out (Rust checks again). */
export function isDeliverable(key: Pick<KeyView, 'status' | 'botsAllowed' | 'managesKeys'>): boolean {
  return key.status === 'active' && key.botsAllowed && key.managesKeys === 0;
}

/** "just now", "2 min ago", "3 h ago", "yesterday", "5 days ago". */
export function agoText(iso: string, now: Date): string {
  const secs = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (secs < 60) return 'just now';
  const mins = Math.floor(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  const hours = Math.floor(mins / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? 'yesterday' : `${days} days ago`;
}

/** One host's line: "vps-1 · read 2 min ago", "vps-1 · never read", with a note when it read an
 * older version than the one Latchkey wrote last. */
export function readText(r: HostReadView, now: Date): string {
  if (!r.readAt) return `${r.host} · never read`;
  const old = !r.current && r.version !== null ? ` (version ${r.version}, not the latest)` : '';
  return `${r.host} · read ${agoText(r.readAt, now)}${old}`;
}

function readsList(key: KeyView, reads: ServersCardInfo['reads'], now: Date): HTMLElement {
  if (reads === undefined)
    return h('p', { class: 'muted host-reads', 'aria-busy': 'true' }, 'Asking OpenBao which hosts read it…');
  if (typeof reads === 'string') return h('p', { class: 'card-error host-reads' }, reads);
  if (!reads.length) {
    return h('p', { class: 'muted host-reads' }, 'No host can read it yet: add one in Settings → Servers (OpenBao).');
  }
  return h(
    'ul',
    { class: 'host-reads', 'aria-label': `Hosts that can read key ${key.label}` },
    ...reads.map((r) =>
      h(
        'li',
        {
          class: `host-read${r.readAt ? '' : ' never-read'}${r.readAt && !r.current ? ' stale' : ''}`,
          'data-host': r.host,
          title: r.readAt ? `Read ${fullDate(r.readAt)}${r.version !== null ? `, version ${r.version}` : ''}` : undefined,
        },
        readText(r, now),
      ),
    ),
  );
}

export function renderServersRow(
  key: KeyView,
  info: ServersCardInfo,
  handlers: ServersCardHandlers,
  now: Date,
): HTMLElement | null {
  const delivered = info.delivered;
  if (!delivered && !isDeliverable(key)) return null;
  const button = (cls: string, text: string, label: string, onClick: () => void): HTMLButtonElement => {
    const b = h(
      'button',
      { type: 'button', class: `btn btn-secondary btn-small ${cls}`, 'aria-label': label, disabled: !!info.busy },
      text,
    );
    b.addEventListener('click', onClick);
    return b;
  };
  if (!delivered) {
    return h(
      'div',
      { class: 'key-servers', 'data-testid': 'key-servers' },
      button('deliver-key', 'Deliver to servers', `Deliver key ${key.label} to servers through OpenBao`, () =>
        handlers.onDeliver(key),
      ),
    );
  }
  return h(
    'div',
    { class: 'key-servers delivered', 'data-testid': 'key-servers' },
    h(
      'div',
      { class: 'key-servers-top' },
      h(
        'span',
        { class: 'badge badge-servers', title: `Delivered ${fullDate(delivered.deliveredAt)}` },
        `On servers · version ${delivered.version}`,
      ),
      h('span', { class: 'spacer' }),
      button('refresh-reads', 'Check reads', `Ask OpenBao again which hosts read key ${key.label}`, () =>
        handlers.onRefreshReads(key),
      ),
      button('undeliver-key', 'Remove from servers', `Remove key ${key.label} from servers`, () => handlers.onUndeliver(key)),
    ),
    readsList(key, info.reads, now),
  );
}
