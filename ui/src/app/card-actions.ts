// What a card does in place, without a dialog: re-check the key with its exchange, and snooze its
// reminders. The card shows the work under way and the answer (`cardStates`).

import { getKey, snoozeKey, verifyKey } from '../api/commands';
import type { IpcError, KeyView } from '../api/types';
import { exchangeName } from '../dashboard/format';
import { shortDate } from '../dashboard/rotation';
import { replaceKey, type AppContext } from './context';

/** Focus went to the card (or nowhere) while its button was disabled: safe to give it back. */
function focusParkedOn(card: HTMLElement): boolean {
  const active = document.activeElement;
  return !active || active === document.body || active === card;
}

/** Asks the exchange again about a saved key; the card shows the answer or the error. */
export async function recheck(ctx: AppContext, key: KeyView): Promise<void> {
  const { state, cardStates } = ctx;
  if (cardStates.get(key.id)?.checking) return;
  cardStates.set(key.id, { checking: true });
  ctx.render();
  let error: string | null = null;
  try {
    const updated = await verifyKey(key.id);
    replaceKey(state, updated);
    ctx.announce(`Key “${updated.label}” re-checked with ${exchangeName(updated.exchange)}.`);
  } catch (e) {
    const err = e as IpcError;
    error = err.message;
    // A key the exchange refused is marked rejected in Rust: show the card's new status too.
    if (err.kind === 'exchange' && (err.code === 'invalid_key' || err.code === 'key_expired')) {
      try {
        replaceKey(state, await getKey(key.id));
      } catch {
        // The inline error still says what happened.
      }
    }
    if (err.kind === 'not_found') {
      cardStates.delete(key.id);
      ctx.showError(err);
      await ctx.refresh();
      return;
    }
  }
  if (error) cardStates.set(key.id, { error });
  else cardStates.delete(key.id);
  ctx.render();
  const card = ctx.cardOf(key.id);
  if (!state.wizard && card && focusParkedOn(card)) card.querySelector<HTMLElement>('.recheck-key')?.focus();
}

/** Silences a key's reminders; the card stays where it is (Rust sorts by urgency, not by snooze). */
export async function snooze(ctx: AppContext, key: KeyView, days: 1 | 7): Promise<void> {
  const { state, cardStates } = ctx;
  if (cardStates.get(key.id)?.snoozing) return;
  ctx.banner.clear();
  cardStates.set(key.id, { ...cardStates.get(key.id), snoozing: true });
  ctx.render();
  try {
    const updated = await snoozeKey(key.id, days);
    replaceKey(state, updated);
    ctx.announce(
      updated.snoozedUntil
        ? `Reminders for “${updated.label}” snoozed until ${shortDate(updated.snoozedUntil)}.`
        : `Reminders for “${updated.label}” snoozed.`,
    );
  } catch (e) {
    ctx.showError(e as IpcError);
  }
  const { snoozing: _done, ...rest } = cardStates.get(key.id) ?? {};
  if (Object.keys(rest).length) cardStates.set(key.id, rest);
  else cardStates.delete(key.id);
  ctx.render();
  const card = ctx.cardOf(key.id);
  if (!ctx.dialogs.busy && card && focusParkedOn(card)) {
    (card.querySelector<HTMLElement>(`.snooze-key[data-days="${days}"]`) ?? card).focus();
  }
}
