// The one place that talks to Rust. Every rejection is turned into an `IpcError`, so callers can
// rely on `kind`, `message` and an optional `field`.
import { invoke } from '@tauri-apps/api/core';

import {
  FIELDS,
  type AddKeyInput,
  type Field,
  type InspectInput,
  type InspectResult,
  type IpcError,
  type IpcErrorKind,
  type KeyView,
  type KeychainStatus,
} from './types';

const KINDS: readonly IpcErrorKind[] = ['invalid', 'keychain', 'not_found', 'storage', 'exchange', 'internal'];

/** Normalises whatever a rejected `invoke` produced (our `{kind, message}`, a string from Tauri itself
 * such as "command not found", or a JS error) into an `IpcError`. */
export function toIpcError(raw: unknown): IpcError {
  if (raw && typeof raw === 'object') {
    const o = raw as Record<string, unknown>;
    const message = typeof o.message === 'string' && o.message ? o.message : 'Something went wrong. Try again.';
    const kind = KINDS.includes(o.kind as IpcErrorKind) ? (o.kind as IpcErrorKind) : 'internal';
    const field = FIELDS.includes(o.field as Field) ? (o.field as Field) : undefined;
    const err: IpcError = { kind, message };
    if (field) err.field = field;
    if (typeof o.code === 'string' && o.code) err.code = o.code;
    return err;
  }
  if (typeof raw === 'string' && raw) return { kind: 'internal', message: raw };
  return { kind: 'internal', message: 'Something went wrong. Try again.' };
}

export function isIpcError(v: unknown): v is IpcError {
  return !!v && typeof v === 'object' && typeof (v as IpcError).message === 'string' && KINDS.includes((v as IpcError).kind);
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
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

export async function deleteKey(id: string): Promise<void> {
  await call<null>('delete_key', { id });
}

export function keychainStatus(): Promise<KeychainStatus> {
  return call<KeychainStatus>('keychain_status');
}
