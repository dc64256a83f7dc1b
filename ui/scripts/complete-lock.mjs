// Fills in package-lock.json entries for optional, platform-specific binaries that the registry
// this project's machines reach does not carry (e.g. @tauri-apps/cli-darwin-arm64,
// @rollup/rollup-win32-x64-msvc). Without them `npm ci` refuses the lock file as "out of sync".
// Each added entry names its version and its os/cpu/libc, so npm skips it on other platforms, and
// a machine of that platform fetches it from its registry as usual.
// Run after `npm install` has changed the lock file:  node scripts/complete-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'freebsd', 'openbsd', 'netbsd', 'android', 'sunos', 'aix', 'openharmony'];
const CPU = {
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  arm: 'arm',
  riscv64: 'riscv64',
  loong64: 'loong64',
  ppc64: 'ppc64',
  s390x: 's390x',
  mips64el: 'mips64el',
};

function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const os = tokens.find((t) => OS.includes(t));
  const cpu = tokens.map((t) => CPU[t]).find(Boolean);
  const libc = tokens.some((t) => t.startsWith('musl'))
    ? 'musl'
    : tokens.some((t) => t.startsWith('gnu')) && os === 'linux'
      ? 'glibc'
      : undefined;
  return os && cpu ? { os, cpu, libc } : null;
}

let added = 0;
for (const [where, entry] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${where ? `${where}/` : ''}node_modules/${dep}`;
    if (pkgs[nested] || pkgs[`node_modules/${dep}`]) continue;
    const p = platformOf(dep);
    if (!p || !/^\d+\.\d+\.\d+/.test(range)) {
      console.warn(`skipped ${dep}@${range}: cannot tell its platform or exact version`);
      continue;
    }
    pkgs[`node_modules/${dep}`] = {
      version: range,
      cpu: [p.cpu],
      ...(entry.dev ? { dev: true } : {}),
      ...(p.libc ? { libc: [p.libc] } : {}),
      optional: true,
      os: [p.os],
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`added ${added} platform entries`);
