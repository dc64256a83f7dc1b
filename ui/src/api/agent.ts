// The signing agent from a key's card (src-tauri/commands/agent.rs). Placeholders are issued with a
// 2FA code and copied to the clipboard by Rust: the page only ever learns the base URL, the bot's
// name and a masked hint of the placeholder key.

import type { AgentBotView, CopyResult, IssuedBotView, PlaceholderPart } from './types';
import { call } from './commands';

/** The bots that trade with this key through the agent. */
export function agentBots(id: string): Promise<AgentBotView[]> {
  return call<AgentBotView[]>('agent_bots', { id });
}

/** Guarded: new placeholders for `bot` on this key; Rust keeps them for the copies that follow. */
export function issueAgentBot(id: string, bot: string, code: string): Promise<IssuedBotView> {
  return call<IssuedBotView>('issue_agent_bot', { id, bot, code });
}

/** Copies one part of the placeholders just issued (cleared from the clipboard after the TTL). */
export function copyAgentPlaceholder(part: PlaceholderPart): Promise<CopyResult> {
  return call<CopyResult>('copy_agent_placeholder', { part });
}

/** The dialog closed: Rust drops the placeholders it kept for copying. */
export async function forgetAgentPlaceholder(): Promise<void> {
  await call<null>('forget_agent_placeholder');
}

/** Revokes one bot: the agent refuses its placeholders from the next request on. */
export async function revokeAgentBot(name: string): Promise<void> {
  await call<null>('revoke_agent_bot', { name });
}
