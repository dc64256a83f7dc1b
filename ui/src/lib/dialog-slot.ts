// One dialog at a time: the modal's focus trap does not stack. Whoever opens a dialog takes the
// slot and gets a ticket; only that ticket frees it. A guarded dialog may hand the slot over to 2FA
// enrolment: the old ticket is then void, so the dialog's own "closed" no longer frees the slot
// that enrolment now holds.

export type Ticket = number;

export class DialogSlot {
  private holder: Ticket | null = null;
  private issued = 0;

  /** `elsewhere`: a dialog this slot does not hand out is open (the Add key wizard). */
  constructor(private readonly elsewhere: () => boolean = () => false) {}

  get busy(): boolean {
    return this.holder !== null || this.elsewhere();
  }

  /** The slot's ticket, or null while another dialog is open. */
  take(): Ticket | null {
    if (this.busy) return null;
    this.issued += 1;
    this.holder = this.issued;
    return this.holder;
  }

  /** Frees the slot if `ticket` still holds it; a ticket handed over or freed before does nothing. */
  release(ticket: Ticket): void {
    if (this.holder === ticket) this.holder = null;
  }

  /** For a dialog's "Set up 2FA": frees `ticket`'s slot, then runs `next` (which takes it again). */
  handOver(ticket: Ticket, next: () => void): () => void {
    return () => {
      this.release(ticket);
      next();
    };
  }
}
