// Checks on what the user types in the Add key wizard. Pure functions, no DOM: they mirror the Rust
// rules in crates/core/src/validate.rs (Rust checks again on save and has the last word).
// No message ever contains a credential: messages describe the expected shape, never the value.

import {
  EXCHANGE_NAMES,
  type AddKeyInput,
  type Environment,
  type Exchange,
  type KeyField,
  type InspectInput,
} from '../api/types';

export type Step = 'exchange' | 'credentials' | 'details' | 'confirm';
export const STEPS: readonly Step[] = ['exchange', 'credentials', 'details', 'confirm'];

export type EnvironmentKind = Environment['kind'];

/** Everything the wizard has collected, as typed (untrimmed strings). */
export interface Draft {
  exchange: Exchange | null;
  apiKey: string;
  apiSecret: string;
  passphrase: string;
  label: string;
  rotationDays: string;
  environment: EnvironmentKind;
  baseUrl: string;
}

export interface FieldError {
  field: KeyField;
  message: string;
}

export const LABEL_MAX_CHARS = 64;
export const ROTATION_DAYS_MAX = 3650;
export const DEFAULT_ROTATION_DAYS = 90;
export const PASSPHRASE_MAX_CHARS = 64;

/** The step on which each field is entered, so an error from Rust can send the user back there. */
export const STEP_OF_FIELD: Record<KeyField, Step> = {
  exchange: 'exchange',
  apiKey: 'credentials',
  apiSecret: 'credentials',
  passphrase: 'credentials',
  label: 'details',
  rotationDays: 'details',
  baseUrl: 'details',
};

export function emptyDraft(): Draft {
  return {
    exchange: null,
    apiKey: '',
    apiSecret: '',
    passphrase: '',
    label: '',
    rotationDays: String(DEFAULT_ROTATION_DAYS),
    environment: 'live',
    baseUrl: '',
  };
}

export function needsPassphrase(exchange: Exchange | null): boolean {
  return exchange === 'okx';
}

const chars = (s: string): number => [...s].length;
const HAS_WHITESPACE = /\s/u;
const CONTROL = /\p{Cc}/u;
const ALNUM = /^[A-Za-z0-9]+$/;
const HEX = /^[0-9A-Fa-f]+$/;
const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

export function checkExchange(exchange: Exchange | null): FieldError | null {
  if (exchange === 'okx' || exchange === 'bybit' || exchange === 'binance') return null;
  return { field: 'exchange', message: 'Choose the exchange this key belongs to.' };
}

/** Label: 1–64 characters after trimming, no control characters, not already used (ASCII case
 * ignored, as the database's unique index does). */
export function checkLabel(raw: string, takenLabels: readonly string[] = []): FieldError | null {
  const label = raw.trim();
  const n = chars(label);
  if (n === 0) return { field: 'label', message: "Give the key a label, e.g. 'okx-bot-main'." };
  if (n > LABEL_MAX_CHARS) {
    return { field: 'label', message: `The label is ${n} characters long; keep it to ${LABEL_MAX_CHARS}.` };
  }
  if (CONTROL.test(label)) {
    return { field: 'label', message: 'The label cannot contain control characters such as tabs or line breaks.' };
  }
  const folded = asciiLower(label);
  if (takenLabels.some((t) => asciiLower(t.trim()) === folded)) {
    return { field: 'label', message: 'Another key already has this label: choose a different one.' };
  }
  return null;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Rotation period: a whole number of days, 1–3650. Returns the number or an error. */
export function parseRotationDays(raw: string): number | FieldError {
  const s = raw.trim();
  const range = `Choose a rotation period between 1 and ${ROTATION_DAYS_MAX} days (90 is a good default).`;
  if (!/^\d+$/.test(s)) {
    return { field: 'rotationDays', message: s === '' ? range : `Enter a whole number of days. ${range}` };
  }
  const days = Number(s);
  if (days < 1 || days > ROTATION_DAYS_MAX) return { field: 'rotationDays', message: range };
  return days;
}

export function checkRotationDays(raw: string): FieldError | null {
  const r = parseRotationDays(raw);
  return typeof r === 'number' ? null : r;
}

/** A custom base URL must be https, except plain http on loopback (127.0.0.0/8, [::1], localhost)
 * for the local simulator: signed requests never travel in clear text. */
export function checkBaseUrl(raw: string): FieldError | null {
  const trimmed = raw.trim();
  const fullUrl = 'Enter a full base URL such as https://eu.okx.com.';
  if (!trimmed) return { field: 'baseUrl', message: fullUrl };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { field: 'baseUrl', message: fullUrl };
  }
  if (url.protocol === 'http:') {
    if (!isLoopback(url.hostname)) {
      return {
        field: 'baseUrl',
        message: 'Use https: plain http is only allowed for a local simulator on 127.0.0.1, ::1 or localhost.',
      };
    }
  } else if (url.protocol !== 'https:' || !url.hostname) {
    return { field: 'baseUrl', message: 'Enter a base URL that starts with https://.' };
  }
  if (url.username || url.password || url.search) {
    return { field: 'baseUrl', message: 'The base URL cannot carry a user name, password or query string.' };
  }
  return null;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase();
  if (h === 'localhost' || h === '[::1]') return true;
  // The URL parser has already normalised IPv4 forms such as 127.1 to dotted quads.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function checkEnvironment(kind: EnvironmentKind, baseUrl: string): FieldError | null {
  return kind === 'custom' ? checkBaseUrl(baseUrl) : null;
}

/** Shape checks per exchange, at most one error per field. They catch the usual paste mistakes (wrong
 * field, missing passphrase, a key from another exchange) before anything leaves the window. */
export function checkCredentials(exchange: Exchange, rawKey: string, rawSecret: string, rawPassphrase: string): FieldError[] {
  const key = rawKey.trim();
  const secret = rawSecret.trim();
  const passphrase = rawPassphrase.trim();
  const name = EXCHANGE_NAMES[exchange];
  const errors: FieldError[] = [];

  const keyError = ((): string | null => {
    if (!key) return `Paste the API key from ${name}.`;
    if (HAS_WHITESPACE.test(key)) return 'The API key contains spaces or line breaks: paste it again on its own.';
    switch (exchange) {
      case 'okx':
        return UUID.test(key) ? null : 'An OKX API key looks like 8-4-4-4-12 hex digits (e.g. 37c541a1-…-10fe7a038418).';
      case 'binance':
        return key.length === 64 && ALNUM.test(key) ? null : 'A Binance API key is 64 letters and digits.';
      case 'bybit':
        return key.length >= 10 && key.length <= 64 && ALNUM.test(key)
          ? null
          : 'A Bybit API key is 10 to 64 letters and digits (usually 18).';
    }
  })();
  if (keyError) errors.push({ field: 'apiKey', message: keyError });

  const secretError = ((): string | null => {
    if (!secret) return `Paste the secret key ${name} showed when the key was created.`;
    if (HAS_WHITESPACE.test(secret)) return 'The secret contains spaces or line breaks: paste it again on its own.';
    if (secret === key) return 'The secret is the same as the API key: paste the secret key into this field.';
    switch (exchange) {
      case 'okx':
        return secret.length === 32 && HEX.test(secret) ? null : 'An OKX secret key is 32 hex characters (0-9, A-F).';
      case 'binance':
        return secret.length === 64 && ALNUM.test(secret)
          ? null
          : 'A Binance HMAC secret key is 64 letters and digits (RSA and Ed25519 keys are not supported yet).';
      case 'bybit':
        return secret.length >= 20 && secret.length <= 128 && ALNUM.test(secret)
          ? null
          : 'A Bybit HMAC secret is 20 to 128 letters and digits (usually 36; RSA keys are not supported yet).';
    }
  })();
  if (secretError) errors.push({ field: 'apiSecret', message: secretError });

  if (needsPassphrase(exchange)) {
    if (!passphrase) {
      errors.push({ field: 'passphrase', message: 'OKX keys need the passphrase you chose when creating the key.' });
    } else if (chars(passphrase) > PASSPHRASE_MAX_CHARS) {
      errors.push({
        field: 'passphrase',
        message: `That passphrase is longer than any OKX allows (${PASSPHRASE_MAX_CHARS} characters at most).`,
      });
    }
  } else if (passphrase) {
    errors.push({ field: 'passphrase', message: `${name} keys have no passphrase: leave this field empty.` });
  }
  return errors;
}

/** The errors that keep the user on `step`. */
export function validateStep(step: Step, draft: Draft, takenLabels: readonly string[] = []): FieldError[] {
  const errors: (FieldError | null)[] = [];
  switch (step) {
    case 'exchange':
      errors.push(checkExchange(draft.exchange));
      break;
    case 'credentials':
      if (!draft.exchange) errors.push(checkExchange(draft.exchange));
      else errors.push(...checkCredentials(draft.exchange, draft.apiKey, draft.apiSecret, draft.passphrase));
      break;
    case 'details':
      errors.push(
        checkLabel(draft.label, takenLabels),
        checkRotationDays(draft.rotationDays),
        checkEnvironment(draft.environment, draft.baseUrl),
      );
      break;
    case 'confirm':
      break;
  }
  return errors.filter((e): e is FieldError => e !== null);
}

export function validateDraft(draft: Draft, takenLabels: readonly string[] = []): FieldError[] {
  return STEPS.flatMap((s) => validateStep(s, draft, takenLabels));
}

export function toEnvironment(kind: EnvironmentKind, baseUrl: string): Environment {
  return kind === 'custom' ? { kind: 'custom', baseUrl: baseUrl.trim() } : { kind };
}

/** The exact payload of `add_key`: trimmed, with the passphrase only for exchanges that have one.
 * `verify` is false only when the user chose "Save without verifying".
 * Throws if the draft is not valid, so an invalid draft can never be sent by mistake. */
export function toAddKeyInput(draft: Draft, verify: boolean, botsAllowed = true): AddKeyInput {
  const errors = validateDraft(draft);
  if (errors.length > 0 || !draft.exchange) {
    throw new Error(`The key is not ready to save: ${errors.map((e) => e.field).join(', ')}`);
  }
  const days = parseRotationDays(draft.rotationDays) as number;
  return {
    ...toInspectInput(draft),
    label: draft.label.trim(),
    rotationDays: days,
    verify,
    botsAllowed,
  };
}

/** The exact payload of `inspect_credentials`: only what the exchange needs, trimmed as `add_key`'s.
 * Throws unless the exchange, credentials and environment are valid. */
export function toInspectInput(draft: Draft): InspectInput {
  const envError = checkEnvironment(draft.environment, draft.baseUrl);
  const errors = [...validateStep('exchange', draft), ...validateStep('credentials', draft), ...(envError ? [envError] : [])];
  if (errors.length > 0 || !draft.exchange) {
    throw new Error(`The key cannot be checked yet: ${errors.map((e) => e.field).join(', ')}`);
  }
  const passphrase = draft.passphrase.trim();
  return {
    exchange: draft.exchange,
    environment: toEnvironment(draft.environment, draft.baseUrl),
    apiKey: draft.apiKey.trim(),
    apiSecret: draft.apiSecret.trim(),
    passphrase: needsPassphrase(draft.exchange) && passphrase ? passphrase : null,
  };
}

/** A short reminder of which key this is, computed as Rust does: `a1b2…9z0y` for keys of 12 or more
 * characters, `…yz` for shorter ones, `…` below 4. Never more of the key than that. */
export function maskHint(rawKey: string): string {
  const c = [...rawKey.trim()];
  const n = c.length;
  if (n >= 12) return `${c.slice(0, 4).join('')}…${c.slice(n - 4).join('')}`;
  if (n >= 4) return `…${c.slice(n - 2).join('')}`;
  return '…';
}
