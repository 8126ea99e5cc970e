#!/usr/bin/env node
// Builds dist/ for the npm package: tsc compiles src/ (ESM + .d.ts, imports rewritten to .js), then the data files
// the code reads at run time beside itself (JSON next to the module that loads it via import.meta.url) are copied over.
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

/** Run-time data: every file under src/ that is neither TypeScript nor documentation. */
function assets(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...assets(p));
    else if (!name.endsWith('.ts') && !name.endsWith('.md')) out.push(p);
  }
  return out;
}
const copied = assets(src);
for (const f of copied) cpSync(f, join(dist, relative(src, f)));
console.log(`dist/: compiled src/, copied ${copied.length} data file(s): ${copied.map((f) => relative(src, f)).join(', ')}`);
