// What the cards and Settings do with the OpenBao server: the saved status (which keys Latchkey
// delivered), each delivered key's hosts and their last reads, "Deliver to servers" (guarded: a 2FA
// code, checked in Rust) and "Remove from servers" (a confirmation: it only narrows where keys go).

import { allHostReads, deliverKey, keyHostReads, serversStatus, undeliverKey } from '../api/servers';
import type { HostReadView, IpcError, KeyView, ServersStatus } from '../api/types';
import { askCode } from '../guard/ask-code';
import { askConfirm } from '../lib/confirm';
import { h } from '../lib/dom';
import { renderServersRow } from '../servers/card-row';
import type { ServersSectionOptions } from '../servers/servers-section';
import type { AppContext } from './context';

export interface ServerActions {
  /** The status and the delivered keys' reads; the list is drawn again with them. */
  load(): Promise<void>;
  /** The card's servers row, or null (no server set up, a key that may not go there). */
  row(key: KeyView): HTMLElement | null;
  /** What Settings needs for its "Servers (OpenBao)" part. */
  settings(status: ServersStatus | null): ServersSectionOptions;
  /** For Settings' first draw: the status, or null when Rust could not say. */
  status(): Promise<ServersStatus | null>;
}

export function serverActions(ctx: AppContext): ServerActions {
  let current: ServersStatus | null = null;
  const reads = new Map<string, HostReadView[] | string>();
  const busy = new Set<string>();
  const configured = (): boolean => !!current?.settings && current.credentialSaved;
  const deliveredOf = (id: string) => current?.delivered.find((d) => d.keyId === id) ?? null;

  async function loadReads(id: string): Promise<void> {
    try {
      reads.set(id, await keyHostReads(id));
    } catch (e) {
      reads.set(id, (e as IpcError).message);
    }
  }

  async function readStatus(): Promise<ServersStatus | null> {
    try {
      return await serversStatus();
    } catch {
      // An older shell, or the store unavailable: the cards simply show no servers row.
      return null;
    }
  }

  async function load(): Promise<void> {
    const before = configured();
    current = await readStatus();
    reads.clear();
    // No server before or now: the cards have no servers row, so the list is not drawn again (a
    // thousand cards cost a frame).
    if (!before && !configured()) return;
    if (configured()) {
      const live = new Set(ctx.state.keys.map((k) => k.id));
      const delivered = (current?.delivered ?? []).filter((d) => live.has(d.keyId));
      try {
        // One call for all keys: the hosts are listed once, not once per card.
        const all = new Map((await allHostReads()).map((k) => [k.keyId, k.reads]));
        for (const d of delivered) reads.set(d.keyId, all.get(d.keyId) ?? []);
      } catch (e) {
        for (const d of delivered) reads.set(d.keyId, (e as IpcError).message);
      }
    }
    ctx.render();
  }

  /** Runs `work` with the card's row disabled, then draws the list and puts focus back on the card. */
  async function withCard(key: KeyView, work: () => Promise<void>, focusClass: string): Promise<void> {
    busy.add(key.id);
    ctx.render();
    try {
      await work();
    } finally {
      busy.delete(key.id);
      ctx.render();
      if (!ctx.dialogs.busy) ctx.buttonOf(key.id, focusClass).focus();
    }
  }

  async function deliver(key: KeyView): Promise<void> {
    const t = ctx.dialogs.take();
    if (t === null) return;
    ctx.banner.clear();
    const s = current?.settings;
    const path = s ? `${s.mount}/data/${s.prefix}/${key.label.trim()}` : key.label;
    const result = await askCode({
      ids: { dialog: 'deliver-dialog', title: 'deliver-title', cancel: 'deliver-cancel', confirm: 'deliver-confirm' },
      title: `Deliver “${key.label}” to servers?`,
      body: [
        h('p', {}, `Latchkey writes the key to OpenBao at ${s?.addr ?? 'the server'}, at ${path}, as a new version.`),
        h('p', {}, 'Hosts you give it to (Settings → Servers) can then read it; rotations and emergency revoke follow it there.'),
        h('p', { class: 'muted' }, 'Enter a 2FA code to allow it.'),
      ],
      confirmLabel: 'Deliver',
      busyLabel: 'Delivering…',
      run: (code) => deliverKey(key.id, code),
      onEnroll: ctx.dialogs.handOver(t, () => ctx.startEnrollment(false)),
      returnFocus: () => ctx.buttonOf(key.id, 'deliver-key'),
    });
    ctx.dialogs.release(t);
    if (!result) return;
    await withCard(
      key,
      async () => {
        current = (await readStatus()) ?? current;
        await loadReads(key.id);
        ctx.announce(
          result.written
            ? `Key “${key.label}” delivered to servers as version ${result.version}.`
            : `Key “${key.label}” is already on the server as version ${result.version}.`,
        );
      },
      'refresh-reads',
    );
  }

  async function undeliver(key: KeyView): Promise<void> {
    const t = ctx.dialogs.take();
    if (t === null) return;
    ctx.banner.clear();
    const yes = await askConfirm({
      id: 'undeliver-dialog',
      title: `Remove “${key.label}” from servers?`,
      body: [
        h(
          'p',
          {},
          'OpenBao destroys every version of the key and its metadata. Bots on servers that read it stop getting it; the key itself stays here.',
        ),
      ],
      confirmLabel: 'Remove from servers',
      cancelLabel: 'Keep it there',
      danger: true,
    });
    ctx.dialogs.release(t);
    if (!yes) {
      ctx.buttonOf(key.id, 'undeliver-key').focus();
      return;
    }
    await withCard(
      key,
      async () => {
        try {
          await undeliverKey(key.id);
          reads.delete(key.id);
          ctx.announce(`Key “${key.label}” removed from servers.`);
        } catch (e) {
          ctx.showError(e as IpcError);
        }
        current = (await readStatus()) ?? current;
      },
      'deliver-key',
    );
  }

  const handlers = {
    onDeliver: (key: KeyView) => void deliver(key),
    onUndeliver: (key: KeyView) => void undeliver(key),
    onRefreshReads: (key: KeyView) => void withCard(key, () => loadReads(key.id), 'refresh-reads'),
  };

  return {
    load,
    status: readStatus,
    row: (key) =>
      configured() && key.status !== 'revoked'
        ? renderServersRow(
            key,
            { delivered: deliveredOf(key.id), reads: reads.get(key.id), busy: busy.has(key.id) },
            handlers,
            ctx.now(),
          )
        : null,
    settings: (status) => ({
      status,
      keys: () => ctx.state.keys,
      onEnroll: () => ctx.startEnrollment(false),
      announce: (text) => ctx.announce(text),
      onChanged: (s) => {
        current = s;
      },
    }),
  };
}
