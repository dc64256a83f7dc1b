// What the window's parts share: the state the list is drawn from, and the few operations every
// dialog needs (draw the list again, reload it, say something to a screen reader, find a card).

import type { Environment, GuardStatus, IpcError, KeyView, Settings } from '../api/types';
import type { CardState, ListOptions } from '../dashboard/dashboard';
import type { Banner } from '../lib/banner';
import type { DialogSlot } from '../lib/dialog-slot';
import type { Wizard } from '../wizard/wizard';
import type { Header } from './header';

export type View = 'keys' | 'audit' | 'settings';

export interface AppState {
  keys: KeyView[];
  guard: GuardStatus | null;
  /** The saved settings, once loaded: the wizard's rotation field starts at `defaultRotationDays`. */
  settings: Settings | null;
  /** The environment of the last key saved (this session only; nothing secret): the wizard offers
   * it again for the next key. */
  lastEnvironment: Environment | undefined;
  view: View;
  /** The Add key wizard, while open (it is not one of the slot's dialogs). */
  wizard: Wizard | null;
}

export interface AppContext {
  state: AppState;
  now: () => Date;
  header: Header;
  main: HTMLElement;
  banner: Banner;
  bannerSlot: HTMLElement;
  keychainBanner: HTMLElement;
  /** One dialog at a time: the modal's focus trap does not stack (the wizard counts as one). */
  dialogs: DialogSlot;
  /** Re-checks under way and their errors, by key id: they survive re-renders of the list. */
  cardStates: Map<string, CardState>;
  render(timing?: Pick<ListOptions, 'onShown' | 'onComplete'>): void;
  refresh(): Promise<void>;
  announce(text: string): void;
  showError(err: IpcError): void;
  cardOf(id: string): HTMLElement | null;
  /** A card's button (or the card, or Add key): where focus returns after its dialog. */
  buttonOf(id: string, cls: string): HTMLElement;
  focusCard(id: string): void;
  /** Reads the 2FA state again and updates the header. */
  loadGuard(): Promise<void>;
  startEnrollment(reenroll: boolean): void;
}

/** Replaces one key in the list by its new version. */
export function replaceKey(state: AppState, updated: KeyView): void {
  state.keys = state.keys.map((k) => (k.id === updated.id ? updated : k));
}
