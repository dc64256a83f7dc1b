// @vitest-environment node
// The UI names no exchange: what it knows about one (names, the form's words and shape rules, the
// capabilities it shows) is data from the Rust adapters (api/generated/exchanges.json), so adding an
// exchange to Rust needs no change here. The Rust side keeps the same rule for its own sources
// (crates/core/src/exchange/registry_check.rs). Tests and their support may name exchanges as data;
// comments may name them too.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXCHANGE_FORMS } from './api/exchanges';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The UI's own code: non-test .ts under src/, outside generated/ and the tests' support. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return ['generated', 'test-support'].includes(name) ? [] : sources(p);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [p] : [];
  });
}

/** Known, explained exceptions: (file, the exact text, why). */
const EXCEPTIONS: readonly (readonly [string, string, string])[] = [
  [
    'dashboard/rotation.ts',
    "'okx_idle_expiry'",
    "a DueReason value of the generated contract (crates/core/src/rotation.rs names it); the words about it come from the key's adapter",
  ],
];

/** Code without its comments (`//` after a line start or a space, so `https://` in a string stays). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
}

/** The lines of `text` that name one of `words` (ASCII case ignored, as a whole word: `_` and `-`
 * do not join words, so `okx-bot-main` names one). */
function offences(file: string, text: string, words: readonly string[]): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`(?<![A-Za-z0-9])(${words.map((w) => w.replace(/\W/g, '\\$&')).join('|')})(?![A-Za-z0-9])`, 'i');
  code(text)
    .split('\n')
    .forEach((line, i) => {
      let rest = line;
      for (const [f, exact] of EXCEPTIONS) if (f === file) rest = rest.split(exact).join('');
      if (pattern.test(rest)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  return found;
}

const WORDS = EXCHANGE_FORMS.flatMap((f) => [f.id, f.name]);

describe('the UI names no exchange', () => {
  it('reads every exchange from the generated data', () => {
    expect(EXCHANGE_FORMS.length).toBeGreaterThanOrEqual(3);
    expect(WORDS.every((w) => w.length >= 3)).toBe(true);
  });

  it('no UI source outside generated/ names an exchange by id or name', () => {
    const files = sources(here);
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((f) => offences(relative(here, f).replace(/\\/g, '/'), readFileSync(f, 'utf8'), WORDS));
    expect(found, "ask ../api/exchanges (the adapters' data) instead of naming an exchange").toEqual([]);
  });

  it('the check catches what it should', () => {
    const words = ['okx', 'OKX', 'Bybit'];
    expect(offences('a.ts', "if (ex === 'okx') return 1;", words)).toHaveLength(1);
    expect(offences('a.ts', "placeholder: 'e.g. okx-bot-main',", words)).toHaveLength(1);
    expect(offences('a.ts', 'const url = "https://www.bybit.com";', words)).toHaveLength(1);
    expect(offences('a.ts', '// OKX keys have a passphrase\n/* Bybit */ const x = 1;', words)).toEqual([]);
    expect(offences('a.ts', 'const okxLike = 1; const box = 2;', words)).toEqual([]);
    expect(offences('dashboard/rotation.ts', "    case 'okx_idle_expiry':", words)).toEqual([]);
    expect(offences('other.ts', "    case 'okx_idle_expiry':", words)).toHaveLength(1);
  });
});
