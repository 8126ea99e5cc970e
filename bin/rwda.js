#!/usr/bin/env node
// CLI launcher. In a source checkout (src/ present) it runs the TypeScript through tsx, so a dist/ left over from an
// earlier build never shadows the code being edited; an installed package ships only dist/, compiled by `npm run build`.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/main.js');
}
