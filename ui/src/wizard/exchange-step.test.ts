// The exchange picker says, per exchange, what Latchkey can do there (checks, emergency revoke, bot
// keys) before anything is pasted: the lines come from the adapters' capabilities.
import { describe, expect, it } from 'vitest';

import { EXCHANGE_FORMS } from '../api/exchanges';
import { h } from '../lib/dom';
import { exchangeStep } from './exchange-step';

describe('exchange picker', () => {
  it("shows every exchange's three capability lines, read by its radio", () => {
    const step = exchangeStep(h('div', {}));
    document.body.replaceChildren(step.panel);
    for (const form of EXCHANGE_FORMS) {
      const caps = document.getElementById(`exchange-${form.id}-caps`)!;
      const lines = [...caps.querySelectorAll('.radio-card-cap')].map((e) => e.textContent);
      expect(lines).toEqual([form.capabilities.inspect, form.capabilities.revoke, form.capabilities.automation]);
      expect(lines.every((l) => (l ?? '').length > 10)).toBe(true);
      expect(document.getElementById(`exchange-${form.id}`)!.getAttribute('aria-describedby')).toContain(caps.id);
    }
  });
});
