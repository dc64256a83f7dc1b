// The Add key wizard's public shape: what it is opened with and what it offers (wizard.ts).

import type { AddKeyInput, Environment, InspectInput, InspectResult, KeyView } from '../api/types';
import type { Banner } from '../lib/banner';
import type { Step } from './validate';

export interface WizardOptions {
  banner: Banner;
  /** Labels already in use, for the early uniqueness check (Rust checks again). */
  takenLabels?: () => readonly string[];
  /** Defaults to the `add_key` command. */
  save?: (input: AddKeyInput) => Promise<KeyView>;
  /** Defaults to the `inspect_credentials` command. */
  inspect?: (input: InspectInput) => Promise<InspectResult>;
  onSaved?: (record: KeyView) => void;
  /** The clock, for expiry texts. */
  now?: () => Date;
  /** The rotation field's starting value: the saved default policy (90 days if unknown). */
  defaultRotationDays?: number;
  /** Where focus goes when the wizard closes, if it was not opened from a focused control. */
  returnFocus?: () => HTMLElement | null;
  /** Called once the dialog is gone, saved or not. */
  onClosed?: () => void;
  /** Whether the step after saving is 2FA enrolment (2FA off, and not skipped). Asked when the
   * wizard opens (for the step list) and again after the save. */
  enrolAfterSave?: () => boolean;
  /** 2FA was set up, or skipped, in the wizard's last step. */
  onGuardChanged?: () => void;
  /** The environment to start with: the last key's (its base URL too), offered again. */
  environment?: Environment;
  /** "Create a new key for a bot" beside pasting one: the wizard closes, the mint dialog opens. */
  onMint?: () => void;
}

/** The wizard's steps: the form's, then (first use) 2FA enrolment. */
export type WizardStep = Step | '2fa';

export interface Wizard {
  readonly element: HTMLElement;
  readonly step: WizardStep;
  goTo(step: Step): void;
  next(): void;
  back(): void;
  /** Save with `verify: true` (only once the exchange check succeeded). */
  save(): Promise<void>;
  /** The deliberate "Save without verifying" (only after the check failed). */
  saveUnverified(): Promise<void>;
  /** Runs the exchange check again (confirm step). */
  retryVerify(): Promise<void>;
  readonly verifyState: VerifyState;
  close(): void;
}

/** The confirm step's exchange check, mirrored in `#verify-result[data-state]` (idle: not shown). */
export type VerifyState = 'idle' | 'checking' | 'ok' | 'failed';
