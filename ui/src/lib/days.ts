// The one day count for a date, as Rust's `rotation::days_until` counts it: calendar days in the
// user's time zone, so the badge, the findings and the facts say the same number for one expiry.

const DAY_MS = 24 * 60 * 60 * 1000;

function localMidnight(t: number): number {
  const d = new Date(t);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Calendar days from `now`'s day to the day of `t` (ms) in local time; negative once past. Rounded,
 * because a day across a DST change lasts 23 or 25 hours. */
export function daysUntil(t: number, now: Date): number {
  return Math.round((localMidnight(t) - localMidnight(now.getTime())) / DAY_MS);
}

/** "2025-03-22": the local calendar date, the one Rust's messages print. */
export function localDate(t: number): string {
  const d = new Date(t);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
