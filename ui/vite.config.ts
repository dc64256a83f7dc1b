/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The window's CSP is `default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:`:
// everything ships as files next to index.html, nothing is inlined and nothing is fetched remotely.
export default defineConfig({
  root,
  base: './',
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: '127.0.0.1',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'safari15',
    assetsInlineLimit: 0,
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
    // Day counts are in the user's calendar: tests with a fixed clock fix the time zone too.
    env: { TZ: 'UTC' },
  },
});
