// Which desktop the web view runs on, from its user agent: WebKitGTK on Linux, WKWebView on macOS,
// WebView2 on Windows. Only used for look (the font stack), never for a security decision.

export type Os = 'linux' | 'macos' | 'windows';

export function osOf(userAgent: string): Os {
  if (/Windows NT/.test(userAgent)) return 'windows';
  if (/Macintosh|Mac OS X/.test(userAgent)) return 'macos';
  return 'linux';
}
