// The checks after the first screen: the keychain probe (a banner only if it fails), and keychain
// items no key on the list describes (offered back in a dialog, loaded on first use).

import { keychainStatus, orphanKeys } from '../api/commands';
import type { IpcError, Orphan } from '../api/types';
import { h } from '../lib/dom';
import type { AppContext } from './context';
import { orphansModule } from './dialogs';

export async function checkKeychain(ctx: AppContext): Promise<void> {
  let message: string | null = null;
  try {
    const s = await keychainStatus();
    if (!s.ok) message = s.message ?? 'The OS keychain is not available, so keys cannot be saved.';
  } catch (e) {
    message = (e as IpcError).message;
  }
  const { keychainBanner } = ctx;
  if (message) {
    keychainBanner.replaceChildren(h('strong', {}, 'Keychain unavailable. '), message);
    keychainBanner.hidden = false;
  } else {
    keychainBanner.hidden = true;
  }
}

export async function checkOrphans(ctx: AppContext): Promise<void> {
  // A locked or missing keychain is already reported; searching it would only ask to unlock.
  if (!ctx.keychainBanner.hidden) return;
  let found: Orphan[];
  let m: Awaited<ReturnType<typeof orphansModule.load>>;
  try {
    found = await orphanKeys();
    if (!found.length) return;
    m = await orphansModule.load();
  } catch {
    return; // An older shell, or a keychain that cannot list its items: nothing to offer.
  }
  const t = ctx.dialogs.take();
  if (t === null) return;
  let restored = false;
  m.openOrphansDialog({
    orphans: found,
    guarded: !!ctx.state.guard?.enrolled,
    returnFocus: () => ctx.header.addButton,
    onRestored: () => (restored = true),
    onClosed: () => {
      ctx.dialogs.release(t);
      if (restored) void ctx.refresh();
    },
  });
}
