#!/usr/bin/env node
// Builds the console (tsc, then vite build into ../web/console) when a source is newer than the
// bundle there, or there is none; else does nothing. ops/deps and ops/build run it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, '..', 'web', 'console', 'index.html');
const sources = ['src', 'public', 'index.html', 'package-lock.json', 'tsconfig.json', 'vite.config.ts'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))));
}

const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
if (Math.max(...sources.map((s) => newest(join(here, s)))) > built) {
  process.stderr.write('ops: building the console (api/console into api/web/console)\n');
  execFileSync('npm', ['run', '--silent', 'build', '--', '--logLevel', 'warn'], { cwd: here, stdio: ['ignore', 2, 2] });
}
