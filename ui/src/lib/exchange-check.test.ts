import { describe, expect, it } from 'vitest';

import { ExchangeCheck } from './exchange-check';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('ExchangeCheck', () => {
  it('shows checking, then the answer; an answer overtaken by a newer check is dropped', async () => {
    let changes = 0;
    const check = new ExchangeCheck({ id: 'c', titleId: 'c-title', hideWhenIdle: true, onChange: () => changes++ });
    expect(check.region.hidden).toBe(true);
    const first = deferred<string>();
    const second = deferred<string>();
    const seen: string[] = [];
    const done: string[] = [];
    const on = (name: string) => ({
      done: () => done.push(name),
      wanted: () => true,
      answered: (r: string) => seen.push(`${name}:${r}`),
      failed: () => seen.push(`${name}:failed`),
    });
    const a = check.run('Checking…', 'Nothing is saved yet.', () => first.promise, on('a'));
    expect(check.state).toBe('checking');
    expect(check.region.hidden).toBe(false);
    expect(check.region.querySelector('#c-title')?.textContent).toBe('Checking…');
    const b = check.run('Checking again…', '', () => second.promise, on('b'));
    first.resolve('old');
    second.reject(new Error('refused'));
    await Promise.all([a, b]);
    expect(seen).toEqual(['b:failed']);
    expect(done).toEqual(['a', 'b']); // the payload is blanked whatever happens
    expect(changes).toBeGreaterThan(0);
  });

  it('drops the answer after cancel or once the dialog is gone', async () => {
    const check = new ExchangeCheck({ id: 'c', titleId: 't', onChange: () => {} });
    const seen: string[] = [];
    const p = deferred<string>();
    const run = check.run('…', '', () => p.promise, {
      done: () => {},
      wanted: () => true,
      answered: (r) => seen.push(r),
      failed: () => {},
    });
    check.cancel();
    p.resolve('late');
    await run;
    await check.run('…', '', () => Promise.resolve('closed'), {
      done: () => {},
      wanted: () => false,
      answered: (r) => seen.push(r),
      failed: () => {},
    });
    expect(seen).toEqual([]);
  });
});
