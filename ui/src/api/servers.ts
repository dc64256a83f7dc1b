// Keys for bots on servers, through OpenBao (src-tauri/commands/servers.rs). The token or password
// goes to Rust once, into the keychain; nothing secret comes back except a new host's wrapped
// secret-id, once.

import type {
  ConnectionReportView,
  CopyResult,
  DeliveryView,
  EnrolmentPart,
  EnrolmentView,
  HostReadView,
  HostView,
  KeyHostReadsView,
  ServerSettingsView,
  ServersStatus,
} from './types';
import { call } from './commands';

export function serversStatus(): Promise<ServersStatus> {
  return call<ServersStatus>('servers_status');
}

/** `credential` null or empty keeps the one in the keychain; the caller blanks its field after. */
export function saveServers(settings: ServerSettingsView, credential: string | null): Promise<ServersStatus> {
  return call<ServersStatus>('save_servers', { settings, credential });
}

/** With the saved settings and credential; writes nothing on the server. */
export function testServers(): Promise<ConnectionReportView> {
  return call<ConnectionReportView>('test_servers');
}

/** Guarded: Rust checks the code, then writes the key to OpenBao. */
export function deliverKey(id: string, code: string): Promise<DeliveryView> {
  return call<DeliveryView>('deliver_key', { id, code });
}

/** Destroys every version of the key on OpenBao (no code: it only narrows where keys go). */
export function undeliverKey(id: string): Promise<boolean> {
  return call<boolean>('undeliver_key', { id });
}

export function serverHosts(): Promise<HostView[]> {
  return call<HostView[]>('server_hosts');
}

/** Guarded: the host's policy reads exactly these keys; the answer's wrapped secret-id is shown once. */
export function addServerHost(name: string, keyIds: string[], code: string): Promise<EnrolmentView> {
  return call<EnrolmentView>('add_server_host', { name, keyIds, code });
}

/** Copies a part of the last enrolment through Rust (cleared from the clipboard after the TTL). */
export function copyEnrolment(part: EnrolmentPart): Promise<CopyResult> {
  return call<CopyResult>('copy_enrolment', { part });
}

/** The enrolment dialog closed: Rust drops its copy of the wrapped secret-id. */
export async function forgetEnrolment(): Promise<void> {
  await call<null>('forget_enrolment');
}

export function removeServerHost(name: string): Promise<boolean> {
  return call<boolean>('remove_server_host', { name });
}

/** Every delivered key's hosts and last reads, the hosts listed once (the dashboard's load). */
export function allHostReads(): Promise<KeyHostReadsView[]> {
  return call<KeyHostReadsView[]>('all_host_reads', {});
}

/** The hosts whose policy can read the key, and each one's last read of it. */
export function keyHostReads(id: string): Promise<HostReadView[]> {
  return call<HostReadView[]>('key_host_reads', { id });
}
