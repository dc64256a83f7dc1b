// Checks on what the user types in the Add key wizard. Pure functions, no DOM: they mirror the Rust
// rules in crates/core/src/validate.rs (Rust checks again on save and has the last word); each
// exchange's shape rules and their messages are data from its Rust adapter (../api/exchanges).
// No message ever contains a credential: messages describe the expected shape, never the value.

import { EXCHANGE_FORMS, exchangeForm, exchangeName, isExchange, needsPassphrase } from '../api/exchanges';
import type { AddKeyInput, Charset, CredentialForm, Environment, Exchange, KeyField, InspectInput, Shape } from '../api/types';

export { needsPassphrase } from '../api/exchanges';

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

const chars = (s: string): number => [...s].length;
const HAS_WHITESPACE = /\s/u;
const CONTROL = /\p{Cc}/u;
const CHARSETS: Record<Charset, RegExp> = {
  hex: /^[0-9A-Fa-f]*$/,
  alnum: /^[A-Za-z0-9]*$/,
  base64: /^[A-Za-z0-9+/=]*$/,
  token: /^[A-Za-z0-9_-]*$/,
};

/** Whether a trimmed credential has the shape its exchange's adapter describes (Rust's
 * `Shape::matches`: the charsets are ASCII, so UTF-16 units are characters once they pass). */
export function matchesShape(shape: Shape, value: string): boolean {
  const charset = CHARSETS[shape.charset];
  if (shape.kind === 'length') return charset.test(value) && value.length >= shape.min && value.length <= shape.max;
  const groups = value.split(shape.separator);
  return groups.length === shape.sizes.length && groups.every((g, i) => g.length === shape.sizes[i] && charset.test(g));
}

/** The first exchange's id and host make the examples, as in Rust's messages. */
const EXAMPLE = EXCHANGE_FORMS[0];

export function checkExchange(exchange: Exchange | null): FieldError | null {
  if (isExchange(exchange)) return null;
  return { field: 'exchange', message: 'Choose the exchange this key belongs to.' };
}

/** Label: 1–64 characters after trimming, no control characters, not already used (ASCII case
 * ignored, as the database's unique index does). */
export function checkLabel(raw: string, takenLabels: readonly string[] = []): FieldError | null {
  const label = raw.trim();
  const n = chars(label);
  if (n === 0) return { field: 'label', message: `Give the key a label, e.g. '${EXAMPLE?.id}-bot-main'.` };
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
  const fullUrl = `Enter a full base URL such as ${EXAMPLE?.liveUrl}.`;
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
  const form = exchangeForm(exchange);
  const name = exchangeName(exchange);
  const errors: FieldError[] = [];
  const shapeError = (rule: CredentialForm | undefined, value: string): string | null =>
    !rule || matchesShape(rule.shape, value) ? null : rule.message;

  const keyError = ((): string | null => {
    if (!key) return `Paste the API key from ${name}.`;
    if (HAS_WHITESPACE.test(key)) return 'The API key contains spaces or line breaks: paste it again on its own.';
    return shapeError(form?.apiKey, key);
  })();
  if (keyError) errors.push({ field: 'apiKey', message: keyError });

  const secretError = ((): string | null => {
    if (!secret) return `Paste the secret key ${name} showed when the key was created.`;
    if (HAS_WHITESPACE.test(secret)) return 'The secret contains spaces or line breaks: paste it again on its own.';
    if (secret === key) return 'The secret is the same as the API key: paste the secret key into this field.';
    return shapeError(form?.apiSecret, secret);
  })();
  if (secretError) errors.push({ field: 'apiSecret', message: secretError });

  const rule = form?.passphrase;
  if (rule) {
    if (!passphrase) errors.push({ field: 'passphrase', message: rule.missing });
    else if (chars(passphrase) > rule.maxChars) errors.push({ field: 'passphrase', message: rule.tooLong });
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
    exchangeCode: null,
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
