// Every action the 2FA code guards, as Rust checks it (guard.verify in the commands behind them):
// the 2FA dialog lists them all, so nobody learns of one at the moment it asks for a code.

export const GUARDED_ACTIONS: readonly string[] = [
  'Emergency revoke, retrying a revoke, wiping a key locally and confirming a key deleted on the website',
  'Revealing or copying a secret',
  'Rotating a key',
  'Deleting a key',
  'Letting bots use a key (or stopping them)',
  'Moving a key to another environment or base URL (where its signed requests go)',
  'Deleting a key left in the keychain',
  'Turning 2FA off or setting it up again',
];
