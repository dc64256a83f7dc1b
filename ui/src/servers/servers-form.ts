// Settings → "Servers (OpenBao)": where the server is, how Latchkey signs in, the KV v2 mount and
// prefix, and "Test connection". The token or password field is never filled in: what is typed
// goes to Rust (into the keychain) on Save and the field is blanked; left empty, Rust keeps the
// saved one. Rust checks every field again and names the one it refuses (`serverField`).

import type { ConnectionReportView, IpcError, ServerField, ServerSettingsView, ServersStatus } from '../api/types';
import { h } from '../lib/dom';

const DEFAULTS = { mount: 'secret', prefix: 'latchkey', maxVersions: 5 };

export interface ServersFormRaw {
  addr: string;
  auth: 'token' | 'userpass';
  username: string;
  mount: string;
  prefix: string;
  credential: string;
}

export type FieldError = { field: ServerField; message: string };

/** The form checked as far as the UI can: the settings to send, or the errors per field. */
export function readServersForm(
  raw: ServersFormRaw,
  saved: ServersStatus | null,
): { settings: ServerSettingsView; credential: string | null } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const addr = raw.addr.trim();
  if (!/^https?:\/\/\S+$/i.test(addr)) {
    errors.push({ field: 'address', message: "Enter the server's address, e.g. https://bao.example.com:8200" });
  }
  const username = raw.username.trim();
  if (raw.auth === 'userpass' && !username) errors.push({ field: 'username', message: 'Enter the OpenBao username.' });
  const savedAuth = saved?.settings?.auth;
  // A credential saved for the other method is no good for this one.
  const keeps = !!saved?.credentialSaved && savedAuth === raw.auth;
  if (!raw.credential.trim() && !keeps) {
    errors.push({
      field: 'credential',
      message: raw.auth === 'token' ? 'Enter the token Latchkey signs in with.' : 'Enter the password of the OpenBao user.',
    });
  }
  if (errors.length) return { errors };
  return {
    settings: {
      addr,
      auth: raw.auth,
      username: raw.auth === 'userpass' ? username : null,
      userpassMount: raw.auth === 'userpass' ? (saved?.settings?.userpassMount ?? null) : null,
      mount: raw.mount.trim() || DEFAULTS.mount,
      prefix: raw.prefix.trim() || DEFAULTS.prefix,
      maxVersions: saved?.settings?.maxVersions ?? DEFAULTS.maxVersions,
    },
    credential: raw.credential.trim() ? raw.credential : null,
  };
}

/** What a successful test found, one line each. */
export function reportLines(r: ConnectionReportView): string[] {
  const ttl =
    r.tokenTtlSecs === null
      ? 'never expires'
      : r.tokenTtlSecs >= 7200
        ? `expires in ${Math.floor(r.tokenTtlSecs / 3600)} h`
        : `expires in ${Math.max(1, Math.floor(r.tokenTtlSecs / 60))} min`;
  return [
    `Connected to OpenBao${r.serverVersion ? ` ${r.serverVersion}` : ''} at ${r.addr}${r.standby ? ' (a standby node: it forwards to the active one)' : ''}.`,
    `Mount ${r.mount}/ is KV version 2: keys go to ${r.mount}/data/${r.prefix}/<label>.`,
    `Latchkey's token (policies: ${r.tokenPolicies.join(', ') || 'none'}) ${ttl}, and may write, read and destroy keys there.`,
  ];
}

/** A refusal's message, with the policy lines a "permission denied" names set apart to copy. */
export function errorParts(err: Pick<IpcError, 'message' | 'code'>): { text: string; policy: string[] } {
  const marker = 'Add to its policy: ';
  const at = err.message.indexOf(marker);
  if (err.code !== 'permission_denied' || at < 0) return { text: err.message, policy: [] };
  const policy = err.message
    .slice(at + marker.length)
    .split(/;\s*(?=path ")/)
    .map((l) => l.trim())
    .filter(Boolean);
  return { text: err.message.slice(0, at + marker.length - 1), policy };
}

/** The error box's content: the message, and the policy lines in a block of their own. */
export function renderServerError(err: Pick<IpcError, 'message' | 'code'>): HTMLElement[] {
  const { text, policy } = errorParts(err);
  return [h('span', {}, text), policy.length ? h('pre', { class: 'policy-lines' }, policy.join('\n')) : null].filter(
    (x): x is HTMLElement => x !== null,
  );
}

export interface ServersFormInputs {
  addr: HTMLInputElement;
  auth: HTMLSelectElement;
  username: HTMLInputElement;
  mount: HTMLInputElement;
  prefix: HTMLInputElement;
  credential: HTMLInputElement;
}

/** The inputs, filled from the saved settings (the credential never is). */
export function serversInputs(status: ServersStatus | null): ServersFormInputs {
  const s = status?.settings ?? null;
  const input = (id: string, value: string, extra: Record<string, string> = {}) =>
    h('input', {
      id,
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      value,
      'aria-describedby': `${id}-help ${id}-error`,
      ...extra,
    });
  const auth = h(
    'select',
    { id: 'servers-auth' },
    h('option', { value: 'token' }, 'A token'),
    h('option', { value: 'userpass' }, 'Username and password (userpass)'),
  );
  auth.value = s?.auth ?? 'token';
  return {
    addr: input('servers-addr', s?.addr ?? '', { placeholder: 'https://bao.example.com:8200', inputmode: 'url' }),
    auth,
    username: input('servers-username', s?.username ?? ''),
    mount: input('servers-mount', s?.mount ?? DEFAULTS.mount),
    prefix: input('servers-prefix', s?.prefix ?? DEFAULTS.prefix),
    credential: h('input', {
      id: 'servers-credential',
      type: 'password',
      autocomplete: 'new-password',
      spellcheck: 'false',
      'aria-describedby': 'servers-credential-help servers-credential-error',
    }),
  };
}

export function readInputs(i: ServersFormInputs): ServersFormRaw {
  return {
    addr: i.addr.value,
    auth: i.auth.value === 'userpass' ? 'userpass' : 'token',
    username: i.username.value,
    mount: i.mount.value,
    prefix: i.prefix.value,
    credential: i.credential.value,
  };
}
