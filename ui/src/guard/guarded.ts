// Every action the 2FA code guards, as Rust checks it (guard.verify in the commands behind them):
// the 2FA dialog lists them all, so nobody learns of one at the moment it asks for a code.

export const GUARDED_ACTIONS: readonly string[] = [
  'Emergency revoke, retrying a revoke, wiping a key locally and confirming a key deleted on the website',
  'Revealing or copying a secret',
  'Rotating a key',
  'Deleting a key',
  'Letting bots use a key (or stopping them), and giving a bot placeholders for the signing agent',
  'Delivering a key to servers (OpenBao) and adding a host that may read keys',
  'Moving a key to another environment or base URL (where its signed requests go)',
  'Minting a bot key through a master key, and fixing a key in place through its master',
  'Turning automatic rotation on for a key',
  'From the command line: exporting a key for a bot, locking a whole sub-account, accepting a replaced audit log',
  'Deleting a key left in the keychain',
  'Turning 2FA off or setting it up again',
];

/** What the user types to revoke while 2FA is not set up (Rust's `REVOKE_PHRASE`; Rust refuses it
 * once 2FA is set up). */
export const REVOKE_PHRASE = 'REVOKE';

// Without 2FA, as Rust enforces it: what anyone at this computer can then do without a code, and
// what stays locked. The wizard's "skip 2FA" choice names exactly these.
export const UNGUARDED_WITHOUT_2FA: readonly string[] = [
  `revoke and wipe my keys (emergency revoke, retry, wipe locally, confirm deleted) after typing ${REVOKE_PHRASE}`,
  'delete keychain items left over from keys that are no longer on the list',
  'move a key to another environment or base URL',
  'mint bot keys and fix keys through a master key',
];
export const LOCKED_WITHOUT_2FA: readonly string[] = [
  'revealing or copying a secret',
  'rotating or deleting a key',
  'letting bots use a key',
  'delivering keys to servers',
];

/** The sentence the user accepts to skip 2FA (also kept, as shown, in the audit log). */
export const SKIP_2FA_ACCEPTANCE =
  `I accept that anyone at this computer can ${UNGUARDED_WITHOUT_2FA.join(', and ')}, without a code. ` +
  `Until I set up 2FA, ${LOCKED_WITHOUT_2FA.join(', ')} stay locked.`;
