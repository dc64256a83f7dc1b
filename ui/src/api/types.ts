// The IPC contract with the Rust shell (crates/core model, serde camelCase). Hand-written for now;
// keep in step with `KeyRecord`, `Environment` and the shell's `IpcError`.

export type Exchange = 'okx' | 'bybit' | 'binance';

export type Environment = { kind: 'live' } | { kind: 'demo' } | { kind: 'custom'; baseUrl: string };

export type Permission = 'read' | 'trade' | 'withdraw' | 'transfer';

/** `revoked`: proved revoked at the exchange (`revokedAt`). `still_live`: the exchange's API could not
 * revoke it: blocked, secret kept until the user deletes it on the website and Latchkey proves it.
 * `still_live_wiped`: still live at the exchange, its secret wiped here on the user's request.
 * `rejected`: the exchange answered the key's own signed read with an invalid-key or expired-key
 * error (deleted on the website, or expired); the card says "Rejected by Bybit (deleted or expired?)". */
export type KeyStatus = 'active' | 'quarantined' | 'revoked' | 'still_live' | 'still_live_wiped' | 'rejected';

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
  /** What the exchange said the last time the key was verified (`verifiedAt`); null if never. */
  inspection: KeyInspection | null;
  /** "Bots may use this key": `latchkey run` hands it out only when true. Never true for a key
   * that is the master of other keys. Optional only for shells from before it existed. */
  botsAllowed?: boolean;
  /** RFC 3339: when a signed call with the key's own credentials proved it revoked. */
  revokedAt?: string | null;
}

export type Severity = 'fine' | 'warning' | 'high' | 'critical';

/** Severities from the most to the least serious. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'warning', 'fine'];

/** A risk finding computed by Rust from an inspection. `code` is one of `FINDING_CODES` (kept a string
 * so that a code added in Rust still renders). */
export interface Finding {
  severity: Severity;
  code: string;
  message: string;
}

export const FINDING_CODES = ['withdraw_enabled', 'trade_without_ip_whitelist', 'expiring_soon', 'expired', 'read_only_ip_bound'] as const;

export type AccountKind = 'master' | 'sub' | 'unknown';

/** What an exchange says about a key. Holds no secret. */
export interface KeyInspection {
  exchange: Exchange;
  permissions: Permission[];
  /** The key only works from whitelisted IPs. Binance reports this flag but not the list. */
  ipRestricted: boolean;
  ipWhitelist: string[];
  /** RFC 3339 */
  expiresAt: string | null;
  createdAt: string | null;
  accountKind: AccountKind;
  accountUid: string | null;
  masterUid: string | null;
  /** The key's note on the exchange. */
  label: string | null;
  demo: boolean;
}

/** A key as the list shows it: the record plus the findings of its last inspection ([] if never). */
export interface KeyView extends KeyRecord {
  findings: Finding[];
  /** Rotation status computed by Rust; null for revoked keys. Optional only so that a shell that
   * predates rotation reminders still renders (the card then falls back to `rotationDue`). */
  rotation?: RotationView | null;
  /** RFC 3339: reminders for this key are silenced until then. */
  snoozedUntil?: string | null;
  /** Earlier keys this one replaced, newest first. */
  history?: KeyHistoryEntry[];
  /** A key still live at its exchange: the page to delete it on. */
  stillLiveUrl?: string | null;
}

/** What `inspect_credentials` asks the exchange about, before anything is saved. Holds secrets. */
export interface InspectInput {
  exchange: Exchange;
  environment: Environment;
  apiKey: string;
  apiSecret: string;
  passphrase: string | null;
}

export interface InspectResult {
  inspection: KeyInspection;
  findings: Finding[];
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
  /** true: Rust inspects the key with the exchange and refuses to save if that fails. false only
   * after the user explicitly chose "Save without verifying". */
  verify: boolean;
  /** "Bots may use this key" (on when absent). Turning it off needs no code. */
  botsAllowed?: boolean;
}

export type Field = 'exchange' | 'label' | 'apiKey' | 'apiSecret' | 'passphrase' | 'rotationDays' | 'baseUrl';

/** `guard`: a wrong, expired or replayed 2FA code, or a lock-out; the message says what to do.
 * `guard_missing`: the action needs 2FA, which is not set up. `edit`: a key edit refused (a revoked
 * key's record is history). */
export type IpcErrorKind = 'invalid' | 'keychain' | 'not_found' | 'storage' | 'exchange' | 'guard' | 'guard_missing' | 'internal' | 'edit';

/** Why the exchange refused or could not answer (kind `exchange`). */
export type ExchangeErrorCode =
  | 'invalid_key' | 'bad_signature' | 'wrong_passphrase' | 'missing_passphrase' | 'ip_not_allowed'
  | 'key_ip_or_permission' | 'clock_skew' | 'permission_denied' | 'ip_binding_required' | 'key_frozen'
  | 'key_expired' | 'wrong_environment' | 'rate_limited' | 'exchange_down' | 'timeout' | 'network'
  | 'unexpected_response' | 'not_available' | 'rejected' | 'invalid_environment';

/** Every command rejects with this object. */
export interface IpcError {
  kind: IpcErrorKind;
  message: string;
  /** For `invalid`, and for the exchange codes invalid_key / bad_signature / wrong_passphrase. */
  field?: Field;
  /** For kind `exchange`: an `ExchangeErrorCode` (kept a string so a new code still passes). */
  code?: string;
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

// ---- 2FA guard --------------------------------------------------------------------------------

export interface GuardStatus {
  enrolled: boolean;
  /** RFC 3339; set while too many wrong codes keep the guard locked. */
  lockedUntil: string | null;
  recoveryCodesLeft: number;
}

/** The start of an enrolment: shown once, the secret is never asked for again. */
export interface Enrollment {
  otpauthUri: string;
  /** An SVG document generated by Rust. */
  qrSvg: string;
  secretBase32: string;
}

export interface EnrollmentConfirmed {
  /** 10 one-time codes, shown once. */
  recoveryCodes: string[];
}

// ---- emergency revoke -------------------------------------------------------------------------

/** remote: revoked through the exchange API; local_only: wiped here, finished on the website;
 * manual: the exchange has no revoke API for it. */
export type PlannedAction = 'remote' | 'local_only' | 'manual';

export interface RevokePlanItem {
  id: string;
  label: string;
  exchange: Exchange;
  keyHint: string;
  action: PlannedAction;
  detail: string;
}

export type RevokeStage =
  | 'planned' | 'remote_started' | 'remote_ok' | 'already_revoked' | 'manual' | 'remote_failed'
  | 'retrying' | 'wiped' | 'failed' | 'done';

export interface RevokeProgress {
  id: string;
  stage: RevokeStage;
  message: string;
}

/** `manual`: still live, no API revoke (secret kept); `wiped_locally`: secret wiped here, still live;
 * `unconfirmed`: "I deleted it" was not proved. */
export type RevokeOutcome = 'revoked' | 'already_revoked' | 'manual' | 'quarantined' | 'wiped_locally' | 'unconfirmed';

export type ReportAction = 'retry' | 'wipeAnyway' | 'confirmDeleted';

export interface RevokeReportItem {
  id: string;
  label: string;
  exchange: Exchange;
  keyHint: string;
  outcome: RevokeOutcome;
  message: string;
  manualUrl: string | null;
  steps: string[];
  /** RFC 3339: when the key's own signed call proved it revoked. */
  provedAt?: string | null;
  actions?: ReportAction[];
}

export interface ChecklistItem {
  exchange: Exchange;
  url: string;
  steps: string[];
}

export interface RevokeReport {
  jobId: string;
  startedAt: string;
  finishedAt: string;
  items: RevokeReportItem[];
  checklist: ChecklistItem[];
}

// ---- audit ------------------------------------------------------------------------------------

export interface AuditEntry {
  seq: number;
  at: string;
  action: string;
  keyId: string | null;
  label: string | null;
  outcome: string;
  detail: string;
}

/** The log's end against its anchor in the keychain (null when the app has none). `one_behind`,
 * `not_anchored` and `unavailable` are warnings; `truncated`, `rewritten` and `unanchored` mean
 * the log was altered. */
export type AuditAnchorState = 'matches' | 'one_behind' | 'not_anchored' | 'unavailable' | 'truncated' | 'rewritten' | 'unanchored';

export interface AuditChain {
  ok: boolean;
  checked: number;
  firstBroken: number | null;
  anchor: AuditAnchorState | null;
  message: string;
}

export interface AuditLog {
  entries: AuditEntry[];
  chain: AuditChain;
}

// ---- rotation reminders, settings, guided rotation ---------------------------------------------

export type RotationState = 'ok' | 'due_soon' | 'overdue' | 'expired';

export interface RotationView {
  state: RotationState;
  /** RFC 3339 */
  dueAt: string;
  reason: 'policy' | 'exchange_expiry' | 'okx_idle_expiry';
  daysLeft: number;
  /** Rust's words: "rotate in 3 days", "overdue by 2 days", "due today", "expired 1 day ago". */
  text: string;
}

export interface KeyHistoryEntry {
  id: string;
  keyHint: string;
  createdAt: string;
  retiredAt: string | null;
  status: KeyStatus;
}

export interface Settings {
  defaultRotationDays: number;
  dueSoonDays: number;
  notifications: boolean;
  startAtLogin: boolean;
}

export type SettingsField = 'defaultRotationDays' | 'dueSoonDays';
export const SETTINGS_FIELDS: readonly SettingsField[] = ['defaultRotationDays', 'dueSoonDays'];

/** The new credentials of a guided rotation. Holds secrets, like `AddKeyInput`. */
export interface RotateInput {
  apiKey: string;
  apiSecret: string;
  passphrase: string | null;
}

export type ChangeCode = 'adds_withdraw' | 'drops_ip_whitelist' | 'adds_permission' | 'removes_permission' | 'ip_changed' | 'different_account';

/** How the new key differs from the one it replaces. `code` kept a string so a new code still renders. */
export interface Change {
  code: ChangeCode | string;
  severity: Severity;
  message: string;
}

export interface RotationInspection {
  inspection: KeyInspection;
  findings: Finding[];
  changes: Change[];
}

/** A keychain item of Latchkey's namespace that no key on the list describes (`orphan_keys`).
 * Items written before Latchkey recorded them say nothing of exchange, environment or label. */
export interface Orphan {
  id: string;
  exchange: Exchange | null;
  environment: Environment | null;
  label: string | null;
  /** Masked, e.g. `a1b2…9z0y`; null when the item could not be read. */
  keyHint: string | null;
}

/** The user's answers for `restore_orphan`, where the item does not record them. */
export interface RestoreOrphanInput {
  exchange?: Exchange;
  environment?: Environment;
  label?: string;
}

export interface RestoreOrphanResult {
  key: KeyView;
  /** Why the key could not be checked with its exchange, when it could not. */
  warning: string | null;
}

export interface RotateResult {
  key: KeyView;
  /** The old key's retirement, same shape as an emergency revoke's report. */
  report: RevokeReport;
}

// ---- reveal and copy a secret -------------------------------------------------------------------

/** Which part of a key `copy_secret` puts on the clipboard. */
export type SecretPart = 'apiKey' | 'apiSecret' | 'passphrase';

/** What `reveal_secret` returns after a valid code: the secret itself. Show it for `visibleForSecs`
 * seconds, then drop it. */
export interface RevealedSecret {
  apiKey: string;
  apiSecret: string;
  passphrase: string | null;
  visibleForSecs: number;
}

export interface CopyResult {
  /** Rust removes the value from the clipboard after this many seconds (if it is still there). */
  clearsInSecs: number;
}

/** What `edit_key` changes; a field left out stays as it is. A move (`environment`) and turning bots
 * on need the 2FA code (the move only while 2FA is set up); Rust checks it. */
export interface EditKeyInput {
  label?: string;
  rotationDays?: number;
  environment?: Environment;
  botsAllowed?: boolean;
}

/** The key's own signed read at its new address after a move. `status` is the key's status after it:
 * a quarantined or still-live key keeps its status whatever the answer. */
export type ReverifyOutcome = 'verified' | 'rejected' | 'failed' | 'skipped';

export interface Reverified {
  outcome: ReverifyOutcome;
  status: KeyStatus;
  message: string;
}

export interface EditResult {
  key: KeyView;
  /** What changed, in words; empty when nothing did. */
  changes: string[];
  /** Only after a move. */
  reverify: Reverified | null;
}
