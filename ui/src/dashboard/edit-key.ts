// What the Edit dialog decides, without the DOM: the draft from a key, its field errors (the wizard's
// own rules from wizard/validate.ts), the `edit_key` payload with only what changed, and whether it
// needs a 2FA code. Rust checks everything again and has the last word.

import type { EditKeyInput, Environment, KeyView, Reverified } from '../api/types';
import {
  checkEnvironment,
  checkLabel,
  parseRotationDays,
  toEnvironment,
  type EnvironmentKind,
  type FieldError,
} from '../wizard/validate';

/** The dialog's fields, as typed. */
export interface EditDraft {
  label: string;
  rotationDays: string;
  environment: EnvironmentKind;
  baseUrl: string;
  botsAllowed: boolean;
  /** "Rotate automatically" (only shown for a key whose master Latchkey holds). */
  autoRotate: boolean;
}

export function draftOf(key: KeyView): EditDraft {
  return {
    label: key.label,
    rotationDays: String(key.rotationDays),
    environment: key.environment.kind,
    baseUrl: key.environment.kind === 'custom' ? key.environment.baseUrl : '',
    botsAllowed: key.botsAllowed === true,
    autoRotate: key.autoRotate === 'on',
  };
}

/** Labels the key may not take: those of the other keys in use (a revoked key's label is free). */
export function labelsTakenBy(keys: readonly KeyView[], key: KeyView): string[] {
  return keys.filter((k) => k.id !== key.id && k.status !== 'revoked').map((k) => k.label);
}

export function checkEdit(draft: EditDraft, taken: readonly string[]): FieldError[] {
  const days = parseRotationDays(draft.rotationDays);
  return [
    checkLabel(draft.label, taken),
    typeof days === 'number' ? null : days,
    checkEnvironment(draft.environment, draft.baseUrl),
  ].filter((e): e is FieldError => e !== null);
}

function sameEnvironment(a: Environment, b: Environment): boolean {
  if (a.kind !== b.kind) return false;
  // Rust stores a custom URL without trailing slashes: the same address typed with one is no move.
  const url = (e: Environment): string => (e.kind === 'custom' ? e.baseUrl.trim().replace(/[/\s]+$/, '') : '');
  return url(a) === url(b);
}

/** The `edit_key` payload: only the fields that change. Call after `checkEdit` found nothing. */
export function toEditInput(draft: EditDraft, key: KeyView): EditKeyInput {
  const input: EditKeyInput = {};
  const label = draft.label.trim();
  if (label !== key.label) input.label = label;
  const days = parseRotationDays(draft.rotationDays);
  if (typeof days === 'number' && days !== key.rotationDays) input.rotationDays = days;
  const environment = toEnvironment(draft.environment, draft.baseUrl);
  if (!sameEnvironment(environment, key.environment)) input.environment = environment;
  if (bots(key) && draft.botsAllowed !== (key.botsAllowed === true)) input.botsAllowed = draft.botsAllowed;
  if (autoRotation(key) && draft.autoRotate !== (key.autoRotate === 'on')) input.autoRotate = draft.autoRotate;
  return input;
}

/** Whether the dialog shows "Bots may use this key" (only a key in use can be handed to bots). */
export function bots(key: KeyView): boolean {
  return key.status === 'active';
}

/** Whether the dialog shows "Rotate automatically" (a key whose master Latchkey holds). */
export function autoRotation(key: KeyView): boolean {
  return key.autoRotate !== 'unavailable';
}

export function isEmpty(input: EditKeyInput): boolean {
  return Object.keys(input).length === 0;
}

/** A move needs the code while 2FA is set up; turning bots or automatic rotation on always does
 * (Rust says so if 2FA is missing). Label and rotation policy need none. */
export function needsCode(input: EditKeyInput, guardEnrolled: boolean): boolean {
  return input.botsAllowed === true || input.autoRotate === true || (input.environment !== undefined && guardEnrolled);
}

/** The result's heading after a move. A key that answers but is being ended (quarantined, still
 * live) is not "fine": it says so. */
export function reverifyTitle(r: Reverified): string {
  switch (r.outcome) {
    case 'verified':
      return r.status === 'active' ? 'Verified at the new address' : `Still works at the new address: it stays ${statusWord(r)}`;
    case 'rejected':
      return 'Refused at the new address';
    case 'failed':
      return 'No answer from the new address';
    case 'skipped':
      return 'Not checked';
  }
}

/** How the result box is coloured: green only for a key in use that the exchange answered. */
export function reverifyTone(r: Reverified): 'ok' | 'warn' | 'danger' {
  if (r.outcome === 'verified') return r.status === 'active' ? 'ok' : 'warn';
  return r.outcome === 'rejected' ? 'danger' : 'warn';
}

function statusWord(r: Reverified): string {
  return r.status === 'quarantined' ? 'quarantined' : 'blocked until it is deleted on the website';
}
