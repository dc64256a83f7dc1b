// DOM helpers the app-level tests share: find or fail, let fake timers and promises settle, type as
// a person would (the input event the app listens to).
import { vi } from 'vitest';

/** The element `sel` finds; throws (failing the test) when there is none. */
export const $ = <T extends Element = HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`no element ${sel}`);
  return el;
};

/** Runs pending zero-delay timers and the promise chains they start, a few rounds deep. */
export const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(0);
};

/** Sets the field's value and fires its `input` event. */
export function type(sel: string, value: string): void {
  const el = $<HTMLInputElement>(sel);
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}
