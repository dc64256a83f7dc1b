import { describe, expect, it } from 'vitest';
import { osOf } from './os';

describe('osOf', () => {
  it('names the platform of each Tauri web view', () => {
    // The user agents of WebKitGTK 2.50 (Tauri on Linux), WKWebView and WebView2.
    expect(osOf('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko)')).toBe('linux');
    expect(osOf('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)')).toBe('macos');
    expect(
      osOf(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      ),
    ).toBe('windows');
  });

  it('falls back to the Linux stack for anything unknown', () => {
    expect(osOf('')).toBe('linux');
  });
});
