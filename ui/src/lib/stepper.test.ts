import { describe, expect, it } from 'vitest';

import { FieldErrors } from './field-errors';
import { Stepper } from './stepper';

describe('Stepper', () => {
  it('marks earlier steps done, the shown one current, and says where the user is', () => {
    const s = new Stepper(['a', 'b', 'c'] as const, { a: 'One', b: 'Two', c: 'Three' }, 'st');
    s.show('b');
    const items = [...s.list.querySelectorAll('li')];
    expect(items.map((li) => li.className)).toEqual(['done', 'current', '']);
    expect(items.map((li) => li.getAttribute('aria-current'))).toEqual([null, 'step', null]);
    expect(s.status.textContent).toBe('Step 2 of 3: Two');
    expect(s.status.id).toBe('st');
  });
});

describe('FieldErrors', () => {
  it('shows an error under its field, marks the input invalid, focuses the first, and clears', () => {
    const a = document.createElement('input');
    const b = document.createElement('input');
    document.body.replaceChildren(a, b);
    const errors = new FieldErrors<'a' | 'b'>((f) => (f === 'a' ? a : b), 'err-');
    document.body.append(errors.el('a'), errors.el('b'));
    errors.show([
      { field: 'b', message: 'B is wrong' },
      { field: 'a', message: 'A is wrong' },
    ]);
    expect(errors.el('b').textContent).toBe('B is wrong');
    expect(errors.el('b').hidden).toBe(false);
    expect(errors.el('b').id).toBe('err-b');
    expect(b.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(b);
    errors.clear();
    expect([errors.el('a').hidden, errors.el('b').hidden]).toEqual([true, true]);
    expect(a.hasAttribute('aria-invalid')).toBe(false);
    expect(errors.has('a')).toBe(true);
    expect(errors.has('c')).toBe(false);
  });
});
