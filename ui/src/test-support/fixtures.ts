// Test data typed by the generated IPC types: a fixture that lacks a field the shell sends, or has
// one it does not, fails to compile (`npm run build` type-checks the tests too).
import type { KeyView, RevokeReportItem } from '../api/types';

/** A key as `list_keys` sends it: every field the shell sends, overridable. */
export function keyView(over: Partial<KeyView> = {}): KeyView {
  return {
    id: 'k1',
    exchange: 'okx',
    label: 'key',
    environment: { kind: 'live' },
    keyHint: 'abcd…wxyz',
    createdAt: '2025-03-07T11:00:00Z',
    rotatedAt: '2025-03-07T11:00:00Z',
    verifiedAt: null,
    rotationDays: 90,
    permissions: [],
    ipWhitelist: [],
    status: 'active',
    inspection: null,
    masterKeyId: null,
    subAccount: null,
    snoozedUntil: null,
    remindedAt: null,
    replaces: null,
    botsAllowed: true,
    revokedAt: null,
    findings: [],
    rotation: null,
    history: [],
    stillLiveUrl: null,
    managesKeys: 0,
    nextAutoRotation: null,
    fixes: [],
    autoRotate: 'unavailable',
    agentServed: false,
    ...over,
  };
}

/** One key's line in a revoke report. */
export function reportItem(over: Partial<RevokeReportItem> & Pick<RevokeReportItem, 'id' | 'outcome'>): RevokeReportItem {
  return {
    label: over.id,
    exchange: 'okx',
    keyHint: `${over.id}…hint`,
    message: '',
    manualUrl: null,
    steps: [],
    provedAt: null,
    actions: [],
    ...over,
  };
}
