// What the emergency revoke dialog says about plans, stages and outcomes. Pure.

import type { Exchange, PlannedAction, RevokeOutcome, RevokeReport, RevokeStage } from '../api/types';
import { exchangeName as name } from '../api/exchanges';

export const REMINDER = 'Change your exchange account password and review active sessions.';

/** The line about passwords and sessions belongs to an emergency; a rotation's retired key (and a
 * follow-up on one key) is routine and asks for nothing more. */
export function reportReminder(report: RevokeReport): string | null {
  return report.kind === 'revoke' ? REMINDER : null;
}

export function actionText(action: PlannedAction, exchange: Exchange): string {
  switch (action) {
    case 'remote':
      return `Revoke at ${name(exchange)} via API`;
    case 'manual':
      return `No API revoke — stays live and blocked: delete it on ${name(exchange)}’s website, then confirm`;
    default:
      return String(action);
  }
}

/** `action`: what the plan said; a key no API can revoke may still be asked about itself first. */
export function stageText(stage: RevokeStage, exchange: Exchange, action: PlannedAction = 'remote'): string {
  const ex = name(exchange);
  const texts: Record<RevokeStage, string> = {
    planned: 'Waiting',
    remote_started: action === 'remote' ? `Revoking at ${ex}…` : `Asking ${ex} about the key…`,
    remote_ok: `Revoked at ${ex}, proved`,
    already_revoked: `Proved gone at ${ex}`,
    manual: `Still live — delete it on ${ex}’s website`,
    retrying: 'Retrying…',
    wiped: 'Secret wiped from the keychain',
    failed: 'Kept in quarantine',
  };
  return texts[stage] ?? stage;
}

/** Stages after which nothing more happens to the key in an emergency revoke: wiped after the
 * proof, still live (blocked, no API revoke), or kept in quarantine. */
export function isFinal(stage: RevokeStage): boolean {
  return stage === 'wiped' || stage === 'manual' || stage === 'failed';
}

/** Counts the keys of a revoke that reached a final state, as Rust's progress arrives. A key is
 * counted once, however many final-looking stages follow. */
export class ProgressCount {
  private readonly finished = new Set<string>();
  readonly total: number;

  constructor(total: number) {
    this.total = total;
  }

  /** Records one progress stage; true if this key just finished. */
  record(id: string, stage: RevokeStage): boolean {
    if (!isFinal(stage) || this.finished.has(id)) return false;
    this.finished.add(id);
    return true;
  }

  get done(): number {
    return this.finished.size;
  }

  text(): string {
    return `${this.done} of ${this.total} ${this.total === 1 ? 'key' : 'keys'} finished`;
  }
}

export function outcomeText(outcome: RevokeOutcome): string {
  const texts: Record<RevokeOutcome, string> = {
    revoked: 'Proved revoked',
    already_revoked: 'Proved revoked',
    manual: 'Still live — delete it on the website',
    quarantined: 'Quarantined — not proved',
    wiped_locally: 'Secret wiped here — still live',
    unconfirmed: 'Not proved — still live',
  };
  return texts[outcome] ?? outcome;
}

/** "3 keys proved revoked · 1 still live: delete on the website · 1 quarantined". Revoked means
 * proved by the key's own signed call; every other key still works at its exchange. */
export function reportSummary(report: RevokeReport): string {
  const count = (o: RevokeOutcome[]) => report.items.filter((i) => o.includes(i.outcome)).length;
  const keys = (n: number) => `${n} ${n === 1 ? 'key' : 'keys'}`;
  const parts: string[] = [];
  const revoked = count(['revoked', 'already_revoked']);
  const live = count(['manual', 'unconfirmed']);
  const wiped = count(['wiped_locally']);
  const quarantined = count(['quarantined']);
  if (revoked) parts.push(`${keys(revoked)} proved revoked`);
  if (live) parts.push(`${live} still live: delete on the website`);
  if (wiped) parts.push(`${wiped} wiped here, still live`);
  if (quarantined) parts.push(`${quarantined} quarantined`);
  return parts.length ? parts.join(' · ') : 'No keys were changed.';
}
