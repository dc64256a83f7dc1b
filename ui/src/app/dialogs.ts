// The dialogs and views the first screen does not show, each in its own chunk, loaded when first
// opened (and fetched in the background once the first screen is up, so a click seldom waits).

import { lazy } from '../lib/lazy';

export const wizardModule = lazy(() => import('../wizard/wizard'));
export const rotateModule = lazy(() => import('../rotate/rotate-dialog'));
export const rotateNowModule = lazy(() => import('../rotate/rotate-now-dialog'));
export const editModule = lazy(() => import('../dashboard/edit-dialog'));
export const revokeModule = lazy(() => import('../revoke/revoke-dialog'));
export const enrollModule = lazy(() => import('../guard/enroll'));
export const orphansModule = lazy(() => import('../dashboard/orphans-dialog'));
export const auditModule = lazy(() => import('../audit/audit-view'));
export const settingsModule = lazy(() => import('../settings/settings-view'));
export const mintModule = lazy(() => import('../mint/mint-dialog'));
export const fixModule = lazy(() => import('../fix/fix-dialog'));

const ALL = [
  wizardModule,
  rotateModule,
  rotateNowModule,
  editModule,
  revokeModule,
  enrollModule,
  orphansModule,
  auditModule,
  settingsModule,
  mintModule,
  fixModule,
];

/** Fetches every one, after the first screen. */
export function preloadDialogs(): Promise<void> {
  return Promise.all(ALL.map((m) => m.load())).then(() => undefined);
}

export const LOAD_FAILED = 'Latchkey could not load this part of the window. Reload it (Ctrl+R) and try again.';
