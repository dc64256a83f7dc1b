// @vitest-environment node
// Guards for the window's CSP (`default-src 'self'; script-src 'self'; style-src 'self'; …`): no
// inline script, no inline style, nothing remote, and no HTML parsing of data in the sources.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const html = readFileSync(join(here, '..', 'index.html'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [p] : [];
  });
}

describe('CSP-friendly page', () => {
  it('index.html has no inline script or style and loads nothing remote', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc=/);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it('sources never parse HTML, set inline styles or evaluate strings', () => {
    const files = sources(here);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const code = readFileSync(f, 'utf8');
      for (const bad of [
        /\.innerHTML\b/,
        /\.outerHTML\s*=/,
        /insertAdjacentHTML/,
        /\beval\(/,
        /new Function\(/,
        /['"]style['"]\s*[,:]/,
        /\.style\./,
      ]) {
        expect(code, `${f} matches ${bad}`).not.toMatch(bad);
      }
    }
  });
});
