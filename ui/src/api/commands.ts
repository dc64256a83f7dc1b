// The one place that talks to Rust. Every rejection is turned into an `IpcError`, so callers can
// rely on `kind`, `message` and an optional `field`.
import { Channel, invoke } from '@tauri-apps/api/core';

import {
  FIELDS,
  SERVER_FIELDS,
  type ServerField,
  type AuditLog,
  type AutoRotated,
  type Enrollment,
  type EnrollmentConfirmed,
  type GuardStatus,
  type RevokePlanItem,
  type RevokeProgress,
  type RevokeReport,
  type AddKeyInput,
  type ErrorCode,
  type EditKeyInput,
  type EditResult,
  type FindingFixes,
  type FixKeyInput,
  type MintInput,
  type MintResult,
  type SubAccountsView,
  type FixKeyResult,
  type Field,
  type InspectInput,
  type InspectResult,
  type IpcError,
  type IpcErrorKind,
  type KeyView,
  type KeychainStatus,
  type Orphan,
  type RestoreOrphanInput,
  type RestoreOrphanResult,
  type RotateInput,
  type RotateResult,
  type RotationInspection,
  SETTINGS_FIELDS,
  type Settings,
  type SettingsField,
  type CopyResult,
  type RevealedSecret,
  type SecretPart,
} from './types';

const KINDS = [
  'invalid',
  'keychain',
  'not_found',
  'storage',
  'exchange',
  'guard',
  'guard_missing',
  'bots',
  'revoke',
  'edit',
  'fix',
  'mint',
  'rotate',
  'servers',
  'agent',
  'internal',
] as const satisfies readonly IpcErrorKind[];
// Every kind Rust sends is known here (before, `revoke` became `internal`).
const kindsListed: [Exclude<IpcErrorKind, (typeof KINDS)[number]>] extends [never] ? true : never = true;
void kindsListed;

/** Normalises whatever a rejected `invoke` produced (our `{kind, message}`, a string from Tauri itself
 * such as "command not found", or a JS error) into an `IpcError`. */
export function toIpcError(raw: unknown): IpcError {
  if (raw && typeof raw === 'object') {
    const o = raw as Record<string, unknown>;
    const message = typeof o.message === 'string' && o.message ? o.message : 'Something went wrong. Try again.';
    const kind = (KINDS as readonly unknown[]).includes(o.kind) ? (o.kind as IpcErrorKind) : 'internal';
    const field = (FIELDS as readonly unknown[]).includes(o.field) ? (o.field as Field) : undefined;
    const err: IpcError = { kind, message };
    if (field) err.field = field;
    const serverField = (SERVER_FIELDS as readonly unknown[]).includes(o.serverField)
      ? (o.serverField as ServerField)
      : undefined;
    if (serverField) err.serverField = serverField;
    // The shell is the only producer of `code`, typed by the generated `ErrorCode`.
    if (typeof o.code === 'string' && o.code) err.code = o.code as ErrorCode;
    return err;
  }
  if (typeof raw === 'string' && raw) return { kind: 'internal', message: raw };
  return { kind: 'internal', message: 'Something went wrong. Try again.' };
}

export function isIpcError(v: unknown): v is IpcError {
  return (
    !!v &&
    typeof v === 'object' &&
    typeof (v as IpcError).message === 'string' &&
    (KINDS as readonly unknown[]).includes((v as IpcError).kind)
  );
}

/** For the area modules beside this one (./servers.ts): the same normalised rejections. */
export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export function listKeys(): Promise<KeyView[]> {
  return call<KeyView[]>('list_keys');
}

/** The input object is handed over as is; the caller clears its own copies afterwards. */
export function addKey(input: AddKeyInput): Promise<KeyView> {
  return call<KeyView>('add_key', { input });
}

export function getKey(id: string): Promise<KeyView> {
  return call<KeyView>('get_key', { id });
}

/** Asks the exchange about credentials that are not saved yet. Same rule as `addKey`: the caller
 * clears its copy of the input afterwards. */
export function inspectCredentials(input: InspectInput): Promise<InspectResult> {
  return call<InspectResult>('inspect_credentials', { input });
}

/** Re-checks a saved key with the exchange (Rust reads the secret from the keychain). */
export function verifyKey(id: string): Promise<KeyView> {
  return call<KeyView>('verify_key', { id });
}

/** Keychain items no key on the list describes (a crash, a database moved aside). */
export function orphanKeys(): Promise<Orphan[]> {
  return call<Orphan[]>('orphan_keys');
}

/** Puts the item back on the list; Rust asks its exchange about it first. */
export function restoreOrphan(id: string, input: RestoreOrphanInput): Promise<RestoreOrphanResult> {
  return call<RestoreOrphanResult>('restore_orphan', { id, input });
}

/** Guarded when 2FA is set up (Rust checks the code); `code` is null without 2FA. */
export async function deleteOrphan(id: string, code: string | null): Promise<void> {
  await call<null>('delete_orphan', { id, code });
}

/** Guarded: Rust checks the 2FA code before deleting. */
export async function deleteKey(id: string, code: string): Promise<void> {
  await call<null>('delete_key', { id, code });
}

export function keychainStatus(): Promise<KeychainStatus> {
  return call<KeychainStatus>('keychain_status');
}

// ---- 2FA guard ----------------------------------------------------------------------------------

export function guardStatus(): Promise<GuardStatus> {
  return call<GuardStatus>('guard_status');
}

/** `code` is needed only to re-enrol (2FA already on), or when the keychain still holds a secret
 * the database forgot; null for the first enrolment. `destroyOldSeed` is the user's explicit choice
 * to destroy such a forgotten secret instead (Rust audits it). */
export function beginEnrollment(code: string | null, destroyOldSeed = false): Promise<Enrollment> {
  return call<Enrollment>('guard_begin_enrollment', destroyOldSeed ? { code: null, destroyOldSeed: true } : { code });
}

/** Drops a begun enrolment (Cancel, Escape, the window closing); resolves true if one was pending. */
/** "Skip 2FA for now": `accepted` is the sentence the user ticked; Rust records it in the audit log. */
export function skipGuardSetup(accepted: string): Promise<GuardStatus> {
  return call<GuardStatus>('guard_skip_setup', { accepted });
}

export function cancelEnrollment(): Promise<boolean> {
  return call<boolean>('guard_cancel_enrollment');
}

export function confirmEnrollment(code: string): Promise<EnrollmentConfirmed> {
  return call<EnrollmentConfirmed>('guard_confirm_enrollment', { code });
}

export async function disableGuard(code: string): Promise<void> {
  await call<null>('guard_disable', { code });
}

// ---- emergency revoke ---------------------------------------------------------------------------

export type ProgressHandler = (p: RevokeProgress) => void;

/** How a progress channel is made. Tauri's `Channel` by default; tests may swap it. */
let makeChannel = (onMessage: ProgressHandler): Channel<RevokeProgress> => new Channel<RevokeProgress>(onMessage);

/** For tests: replaces how progress channels are created; returns the previous factory. */
export function setChannelFactory(
  f: (onMessage: ProgressHandler) => Channel<RevokeProgress>,
): (onMessage: ProgressHandler) => Channel<RevokeProgress> {
  const prev = makeChannel;
  makeChannel = f;
  return prev;
}

/** What emergency revoke would do; `null` = every active or quarantined key. */
export function revokePlan(ids: string[] | null): Promise<RevokePlanItem[]> {
  return call<RevokePlanItem[]>('revoke_plan', { ids });
}

export function emergencyRevoke(code: string, ids: string[] | null, onProgress: ProgressHandler): Promise<RevokeReport> {
  return call<RevokeReport>('emergency_revoke', { code, ids, onProgress: makeChannel(onProgress) });
}

/** Tries the remote revoke of a quarantined key again. */
export function retryRevoke(code: string, id: string, onProgress: ProgressHandler): Promise<RevokeReport> {
  return call<RevokeReport>('retry_revoke', { code, id, onProgress: makeChannel(onProgress) });
}

/** "Wipe locally anyway": removes a quarantined key's secret without the exchange's confirmation. */
export function wipeLocally(code: string, id: string): Promise<RevokeReport> {
  return call<RevokeReport>('wipe_locally', { code, id });
}

/** Rust writes the report of a finished job to a text file and returns its path. */
/** "I deleted it on the website": Rust proves it with the key's own signed call, then wipes. */
export function confirmDeleted(code: string, id: string): Promise<RevokeReport> {
  return call<RevokeReport>('confirm_deleted', { code, id });
}

export function saveRevokeReport(jobId: string): Promise<string> {
  return call<string>('save_revoke_report', { jobId });
}

// ---- audit --------------------------------------------------------------------------------------

export function auditLog(limit: number): Promise<AuditLog> {
  return call<AuditLog>('audit_log', { limit });
}

// ---- rotation reminders, settings, guided rotation ----------------------------------------------

export function getSettings(): Promise<Settings> {
  return call<Settings>('get_settings');
}

/** An `IpcError` whose `field` (kind `invalid`) names a settings field instead of a key field. */
export type SettingsError = Omit<IpcError, 'field'> & { field?: SettingsField };

/** Rejects with a `SettingsError`: `field` is `defaultRotationDays` or `dueSoonDays` when Rust names one. */
export async function saveSettings(settings: Settings): Promise<Settings> {
  try {
    return await invoke<Settings>('save_settings', { settings });
  } catch (raw) {
    const { field: _keyField, ...rest } = toIpcError(raw);
    const err: SettingsError = rest;
    const f = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).field : undefined;
    if (SETTINGS_FIELDS.includes(f as SettingsField)) err.field = f as SettingsField;
    throw err;
  }
}

/** Silences reminders for a key for 1 day or 1 week. */
export function snoozeKey(id: string, days: 1 | 7): Promise<KeyView> {
  return call<KeyView>('snooze_key', { id, days });
}

/** Asks the exchange about a replacement key and compares it with the key `id`. Nothing is saved;
 * the caller blanks its copy of the input afterwards. */
export function inspectRotation(id: string, input: RotateInput): Promise<RotationInspection> {
  return call<RotationInspection>('inspect_rotation', { id, input });
}

/** Guarded: saves the new credentials as the active key under the same label, then retires the old key. */
export function rotateKey(id: string, input: RotateInput, code: string, verify: boolean): Promise<RotateResult> {
  return call<RotateResult>('rotate_key', { id, input, code, verify });
}

/** Guarded: for a key whose master Latchkey holds, Rust checks the code, then runs the automatic
 * rotation now and returns its report (and the new key, when there is one). */
export function rotateNow(id: string, code: string): Promise<AutoRotated> {
  return call<AutoRotated>('rotate_now', { id, code });
}

// ---- reveal and copy a secret -------------------------------------------------------------------

/** Guarded: Rust checks the code, then returns the key's secret parts. The caller shows them for
 * `visibleForSecs` seconds and drops them. */
export function revealSecret(id: string, code: string): Promise<RevealedSecret> {
  return call<RevealedSecret>('reveal_secret', { id, code });
}

/** Guarded: Rust checks the code and puts one part on the system clipboard, clearing it later. */
export function copySecret(id: string, code: string, part: SecretPart): Promise<CopyResult> {
  return call<CopyResult>('copy_secret', { id, code, part });
}

/** Recovery codes go on the clipboard through Rust, marked for clipboard managers to skip and
 * cleared after the TTL (or when Latchkey quits), like a key's secret. */
export function copyRecoveryCodes(codes: string[]): Promise<CopyResult> {
  return call<CopyResult>('copy_recovery_codes', { codes });
}

// ---- which keys bots may use --------------------------------------------------------------------

/** "Bots may use this key". Turning it on is guarded (Rust checks `code`); off needs no code. */
export function setBotsAllowed(id: string, allowed: boolean, code: string | null): Promise<KeyView> {
  return call<KeyView>('set_bots_allowed', { id, allowed, code });
}

// ---- editing a key -------------------------------------------------------------------------------

/** Changes what `input` names. `code` is needed for a move while 2FA is set up, and for turning bots
 * on; Rust checks it and re-verifies a moved key at its new address. */
export function editKey(id: string, input: EditKeyInput, code: string | null): Promise<EditResult> {
  return call<EditResult>('edit_key', { id, input, code });
}

/** Each finding of the key's last inspection with the fixes its exchange's API allows, or why none. */
export function keyFixes(id: string): Promise<FindingFixes[]> {
  return call<FindingFixes[]>('key_fixes', { id });
}

/** Fixes a finding through the key's master (2FA code checked in Rust); the key is inspected again. */
export function fixKey(
  id: string,
  input: FixKeyInput,
  code: string | null,
  exchangeCode: string | null = null,
): Promise<FixKeyResult> {
  return call<FixKeyResult>('fix_key', { id, input, code, exchangeCode });
}

// ---- minting a bot key ---------------------------------------------------------------------------

/** The master's readiness (its own signed read) and its sub-accounts, as its exchange lists them.
 * `exchangeCode`: the exchange's own 2FA code, where it asks for one (Deribit's security keys). */
export function subAccounts(masterId: string, exchangeCode: string | null = null): Promise<SubAccountsView> {
  return call<SubAccountsView>('sub_accounts', { masterId, exchangeCode });
}

/** Creates a key for a bot through its master (2FA code checked in Rust); its secret goes straight
 * into the keychain. */
export function mintKey(input: MintInput, code: string | null, exchangeCode: string | null = null): Promise<MintResult> {
  return call<MintResult>('mint_key', { input, code, exchangeCode });
}
