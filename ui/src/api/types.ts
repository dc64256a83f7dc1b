// The IPC contract with the Rust shell. Every type here is generated from the Rust types that cross
// IPC (ts-rs, `src-tauri/ipc_contract.rs`) into ./generated/: never edit those files, change the Rust
// type and run `LATCHKEY_BLESS=1 cargo test -p latchkey-desktop --lib ipc_contract`. A test fails
// while the committed files differ from the Rust types. What follows the re-exports are the UI's own
// lists of those types' values, each checked at compile time to name every value. The exchanges
// are data, not a list here: ./exchanges.ts reads them from ./generated/exchanges.json.

export type * from './generated/index';

import type { Field } from './generated/Field';
import type { ServerField } from './generated/ServerField';
import type { Severity } from './generated/Severity';
import type { Settings } from './generated/Settings';

/** Compile-time check that a list names every member of a union: `Exhaustive<U, typeof LIST>` is
 * `true` only then (a value added in Rust makes the UI fail to build until it is listed). */
type Exhaustive<U, L extends readonly unknown[]> = [Exclude<U, L[number]>] extends [never] ? true : never;

/** Severities from the most to the least serious. */
export const SEVERITIES = ['critical', 'high', 'warning', 'fine'] as const satisfies readonly Severity[];
const severitiesListed: Exhaustive<Severity, typeof SEVERITIES> = true;

/** The finding codes the UI has words or links for; `Finding.code` stays a string so a code added
 * in Rust still renders. */
export const FINDING_CODES = [
  'withdraw_enabled',
  'trade_without_ip_whitelist',
  'expiring_soon',
  'expired',
  'read_only_ip_bound',
] as const;

/** Every input an `invalid` error can point at: the key forms' and the settings'. */
export const FIELDS = [
  'exchange',
  'label',
  'apiKey',
  'apiSecret',
  'passphrase',
  'rotationDays',
  'baseUrl',
  'defaultRotationDays',
  'dueSoonDays',
] as const satisfies readonly Field[];
const fieldsListed: Exhaustive<Field, typeof FIELDS> = true;

/** Every input of the servers form and the Add host dialog an `invalid` error can point at. */
export const SERVER_FIELDS = [
  'address',
  'mount',
  'prefix',
  'username',
  'userpassMount',
  'caFile',
  'maxVersions',
  'credential',
  'keep',
  'hostName',
  'hostKeys',
] as const satisfies readonly ServerField[];
const serverFieldsListed: Exhaustive<ServerField, typeof SERVER_FIELDS> = true;

export type SettingsField = Extract<Field, keyof Settings>;
export const SETTINGS_FIELDS = ['defaultRotationDays', 'dueSoonDays'] as const satisfies readonly SettingsField[];
const settingsListed: Exhaustive<SettingsField, typeof SETTINGS_FIELDS> = true;

/** The inputs of the key forms (wizard, rotation, edit). */
export type KeyField = Exclude<Field, SettingsField>;

export function isKeyField(field: Field): field is KeyField {
  return !(SETTINGS_FIELDS as readonly Field[]).includes(field);
}

// Referenced so that `noUnusedLocals` keeps the compile-time checks.
export const LISTS_ARE_EXHAUSTIVE = severitiesListed && fieldsListed && settingsListed && serverFieldsListed;
