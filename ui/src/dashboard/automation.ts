// What Latchkey does with a key by itself: a master's count of the keys it manages (mints,
// rotates, deletes through the exchange's API), and when a key that rotates automatically rotates
// next. Both come from Rust (`managesKeys`, `nextAutoRotation` on the key view).

import type { FixKind, KeyView } from '../api/types';
import { renderFixes } from '../fix/fix-buttons';
import { h } from '../lib/dom';
import { fullDate } from './format';

function dayText(iso: string, now: Date): string {
  const days = Math.round((Date.parse(iso) - now.getTime()) / 86_400_000);
  if (days <= 0) return 'today';
  if (days === 1) return 'tomorrow';
  return `in ${days} days`;
}

/** The card's automation line, or nothing for a key Latchkey only keeps. */
export function renderAutomation(key: Pick<KeyView, 'managesKeys' | 'nextAutoRotation'>, now: Date): HTMLElement | null {
  const parts: HTMLElement[] = [];
  if (key.managesKeys > 0) {
    const n = key.managesKeys;
    parts.push(
      h(
        'span',
        {
          class: 'badge badge-master manages-keys',
          title: 'A master key: Latchkey creates, rotates and deletes these keys through it. It is never handed to bots.',
        },
        `Manages ${n} key${n === 1 ? '' : 's'}`,
      ),
    );
  }
  if (key.nextAutoRotation) {
    parts.push(
      h(
        'span',
        { class: 'badge badge-auto next-auto-rotation', title: `Next automatic rotation: ${fullDate(key.nextAutoRotation)}` },
        `Rotates by itself ${dayText(key.nextAutoRotation, now)}`,
      ),
    );
  }
  return parts.length ? h('div', { class: 'key-automation' }, ...parts) : null;
}

/** What Latchkey can do with the key through the exchange's API: its fixes, then the automation line. */
export function renderOperations(key: KeyView, now: Date, onFix?: (kind: FixKind) => void): HTMLElement | null {
  const fixes = renderFixes(key, onFix);
  const automation = renderAutomation(key, now);
  return fixes || automation ? h('div', { class: 'key-operations' }, fixes, automation) : null;
}
