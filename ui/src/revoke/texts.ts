// What the emergency revoke dialog says about plans, stages and outcomes. Pure.

import type { Exchange, PlannedAction, RevokeOutcome, RevokeReport, RevokeStage } from '../api/types';
import { EXCHANGE_NAMES } from '../api/types';

const name = (ex: Exchange): string => EXCHANGE_NAMES[ex] ?? ex;

export function actionText(action: PlannedAction, exchange: Exchange): string {
  switch (action) {
    case 'remote':
      return `Revoke at ${name(exchange)} via API`;
    case 'local_only':
      return 'Local only — finish on the website';
    case 'manual':
      return `Manual — delete it on ${name(exchange)}’s website`;
    default:
      return String(action);
  }
}

export function stageText(stage: RevokeStage, exchange: Exchange): string {
  const ex = name(exchange);
  const texts: Record<RevokeStage, string> = {
    planned: 'Waiting',
    remote_started: `Revoking at ${ex}…`,
    remote_ok: `Revoked at ${ex}`,
    already_revoked: `Already revoked at ${ex}`,
    manual: 'Needs a step on the website',
    remote_failed: `${ex} did not confirm`,
    retrying: 'Retrying…',
    wiped: 'Secret wiped from the keychain',
    failed: 'Kept in quarantine',
    done: 'Done',
  };
  return texts[stage] ?? stage;
}

/** Stages after which nothing more happens to the key. */
export function isFinal(stage: RevokeStage): boolean {
  return stage === 'done' || stage === 'failed';
}

export function outcomeText(outcome: RevokeOutcome): string {
  const texts: Record<RevokeOutcome, string> = {
    revoked: 'Revoked',
    already_revoked: 'Already revoked',
    manual: 'Wiped here — finish on the website',
    quarantined: 'Quarantined — not confirmed',
    wiped_locally: 'Wiped locally',
  };
  return texts[outcome] ?? outcome;
}

/** "3 keys revoked · 1 to finish on the website · 1 quarantined" */
export function reportSummary(report: RevokeReport): string {
  const count = (o: RevokeOutcome[]) => report.items.filter((i) => o.includes(i.outcome)).length;
  const keys = (n: number) => `${n} ${n === 1 ? 'key' : 'keys'}`;
  const parts: string[] = [];
  const revoked = count(['revoked', 'already_revoked']);
  const manual = count(['manual']);
  const wiped = count(['wiped_locally']);
  const quarantined = count(['quarantined']);
  if (revoked) parts.push(`${keys(revoked)} revoked`);
  if (manual) parts.push(`${manual} to finish on the website`);
  if (wiped) parts.push(`${wiped} wiped locally`);
  if (quarantined) parts.push(`${quarantined} quarantined`);
  return parts.length ? parts.join(' · ') : 'No keys were changed.';
}
