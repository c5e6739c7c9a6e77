#!/usr/bin/env node
// One-time machine set-up shared by `npm start`, `npm test` and `npm run bench`:
// Debian packages (emscripten, chromium, espeak-ng, ffmpeg, sox, g++) and npm dependencies.
// Uses only Node built-ins: it runs before node_modules exists.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const log = (...a) => { if (!quiet) console.log('[setup]', ...a); };

// command on PATH (or file) → Debian package that provides it
const DEBIAN_NEEDS = [
  ['emcc', 'emscripten'],
  ['/usr/share/nodejs/acorn', 'node-acorn'],
  ['chromium', 'chromium'],
  ['espeak-ng', 'espeak-ng'],
  ['ffmpeg', 'ffmpeg'],
  ['sox', 'sox'],
  ['g++', 'g++'],
];

function have(what) {
  if (what.startsWith('/')) return existsSync(what);
  return spawnSync('sh', ['-c', `command -v ${what}`], { stdio: 'ignore' }).status === 0;
}

function ensureDebianPackages() {
  const missing = [...new Set(DEBIAN_NEEDS.filter(([what]) => !have(what)).map(([, pkg]) => pkg))];
  if (missing.length === 0) { log('Debian packages: present'); return; }
  const cmd = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(`[setup] Missing Debian packages: ${missing.join(', ')}.\n[setup] Run as root:\n  sudo sh -c '${cmd}'\n[setup] then run this command again.`);
    process.exit(1);
  }
  log(`installing Debian packages: ${missing.join(' ')} (1-2 minutes on a fresh machine)`);
  execSync(cmd, { stdio: quiet ? 'ignore' : 'inherit', shell: '/bin/sh' });
}

function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const installed = join(root, 'node_modules', '.package-lock.json');
  const fresh = existsSync(installed) && (!existsSync(lock) || statSync(installed).mtimeMs >= statSync(lock).mtimeMs);
  if (fresh) { log('npm dependencies: present'); return; }
  const cmd = existsSync(lock) ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund';
  log(`installing npm dependencies: ${cmd}`);
  execSync(cmd, { cwd: root, stdio: quiet ? 'ignore' : 'inherit', env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' } });
}

ensureDebianPackages();
ensureNodeModules();
