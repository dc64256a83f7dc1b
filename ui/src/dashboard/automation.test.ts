import { describe, expect, it } from 'vitest';

import { keyView } from '../test-support/fixtures';
import { renderAutomation } from './automation';

const now = new Date('2026-12-01T12:00:00Z');

describe('the automation line on a key card', () => {
  it('says how many keys a master manages', () => {
    const el = renderAutomation(keyView({ managesKeys: 3 }), now);
    expect(el?.querySelector('.manages-keys')?.textContent).toBe('Manages 3 keys');
    expect(renderAutomation(keyView({ managesKeys: 1 }), now)?.textContent).toBe('Manages 1 key');
  });

  it('says when a key rotates by itself next', () => {
    const el = renderAutomation(keyView({ nextAutoRotation: '2026-12-08T12:00:00Z' }), now);
    expect(el?.querySelector('.next-auto-rotation')?.textContent).toBe('Rotates by itself in 7 days');
    expect(renderAutomation(keyView({ nextAutoRotation: '2026-12-01T13:00:00Z' }), now)?.textContent).toBe(
      'Rotates by itself today',
    );
  });

  it('shows nothing for a key Latchkey only keeps', () => {
    expect(renderAutomation(keyView(), now)).toBeNull();
  });
});
