// The IPC contract with the Rust shell (crates/core model, serde camelCase). Hand-written for now;
// keep in step with `KeyRecord`, `Environment` and the shell's `IpcError`.

export type Exchange = 'okx' | 'bybit' | 'binance';

export type Environment = { kind: 'live' } | { kind: 'demo' } | { kind: 'custom'; baseUrl: string };

export type Permission = 'read' | 'trade' | 'withdraw' | 'transfer';

export type KeyStatus = 'active' | 'quarantined' | 'revoked';

export interface KeyRecord {
  id: string;
  exchange: Exchange;
  label: string;
  environment: Environment;
  /** e.g. `a1b2…9z0y`: enough to recognise the key, never enough to use it. */
  keyHint: string;
  /** RFC 3339 */
  createdAt: string;
  rotatedAt: string;
  verifiedAt: string | null;
  rotationDays: number;
  permissions: Permission[];
  ipWhitelist: string[];
  status: KeyStatus;
}

/** What the Add key wizard sends. The only type in the UI that ever holds a secret. */
export interface AddKeyInput {
  exchange: Exchange;
  label: string;
  environment: Environment;
  apiKey: string;
  apiSecret: string;
  passphrase: string | null;
  rotationDays: number;
}

export type Field = 'exchange' | 'label' | 'apiKey' | 'apiSecret' | 'passphrase' | 'rotationDays' | 'baseUrl';

export type IpcErrorKind = 'invalid' | 'keychain' | 'not_found' | 'storage' | 'internal';

/** Every command rejects with this object. */
export interface IpcError {
  kind: IpcErrorKind;
  message: string;
  field?: Field;
}

export interface KeychainStatus {
  ok: boolean;
  service: string;
  message: string | null;
}

export const EXCHANGES: readonly Exchange[] = ['okx', 'bybit', 'binance'];

export const EXCHANGE_NAMES: Record<Exchange, string> = {
  okx: 'OKX',
  bybit: 'Bybit',
  binance: 'Binance',
};

export const FIELDS: readonly Field[] = ['exchange', 'label', 'apiKey', 'apiSecret', 'passphrase', 'rotationDays', 'baseUrl'];
