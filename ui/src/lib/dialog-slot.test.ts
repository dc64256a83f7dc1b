import { describe, expect, it } from 'vitest';

import { DialogSlot } from './dialog-slot';

describe('DialogSlot', () => {
  it('hands out one ticket at a time and only that ticket frees it', () => {
    const slot = new DialogSlot();
    const a = slot.take();
    expect(a).not.toBeNull();
    expect(slot.take()).toBeNull();
    slot.release(a! + 1);
    expect(slot.busy).toBe(true);
    slot.release(a!);
    expect(slot.busy).toBe(false);
    expect(slot.take()).not.toBeNull();
  });

  it('after a hand-over to enrolment, the first dialog closing leaves enrolment the slot', () => {
    const slot = new DialogSlot();
    const guarded = slot.take()!;
    let enrolment: number | null = null;
    slot.handOver(guarded, () => (enrolment = slot.take()))();
    expect(enrolment).not.toBeNull();
    slot.release(guarded); // the guarded dialog's "closed" comes after
    expect(slot.busy).toBe(true);
    slot.release(enrolment!);
    expect(slot.busy).toBe(false);
  });

  it('counts a dialog it does not hand out (the wizard) as busy', () => {
    let wizardOpen = true;
    const slot = new DialogSlot(() => wizardOpen);
    expect(slot.take()).toBeNull();
    wizardOpen = false;
    expect(slot.take()).not.toBeNull();
  });
});
