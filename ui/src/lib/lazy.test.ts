import { describe, expect, it, vi } from 'vitest';
import { lazy, loaded } from './lazy';

describe('lazy modules', () => {
  it('loads once, then answers at once', async () => {
    const importer = vi.fn(async () => ({ answer: 42 }));
    const m = lazy(importer);
    expect(m.now).toBeNull();
    const again = vi.fn();
    expect(loaded(m, again, () => {})).toBeNull();
    expect(loaded(m, again, () => {})).toBeNull();
    await m.load();
    await Promise.resolve();
    expect(importer).toHaveBeenCalledTimes(1);
    expect(again).toHaveBeenCalledTimes(2);
    expect(loaded(m, again, () => {})).toEqual({ answer: 42 });
  });

  it('reports a failed load and tries again next time', async () => {
    let fail = true;
    const m = lazy(async () => {
      if (fail) throw new Error('offline');
      return 1;
    });
    const failed = vi.fn();
    loaded(m, () => {}, failed);
    await expect(m.load()).rejects.toThrow('offline');
    expect(failed).toHaveBeenCalled();
    fail = false;
    await expect(m.load()).resolves.toBe(1);
  });
});
