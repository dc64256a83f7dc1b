// @vitest-environment node
// Issue 12 §3: every UI source file stays under 400 lines (test files may be longer). A file that
// grows past it is split along its seams, as the wizard (./wizard/*-step.ts) and the window
// (./app/*) were.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const MAX_LINES = 400;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'generated' ? [] : sources(p);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [p] : [];
  });
}

describe('UI source files', () => {
  it(`are each under ${MAX_LINES} lines`, () => {
    const files = sources(here);
    expect(files.length).toBeGreaterThan(20);
    const long = files
      .map((f) => [relative(here, f), readFileSync(f, 'utf8').split('\n').length - 1] as const)
      .filter(([, n]) => n >= MAX_LINES)
      .map(([f, n]) => `${f}: ${n} lines`);
    expect(long).toEqual([]);
  });
});
