// Helpers for building small dataset trees under os.tmpdir() in the loaders' tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A valid 1×1 grey PNG (made with sharp); the loaders never decode, but real bytes keep the trees honest. */
export const PNG_1X1 = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000970485973000003e8000003e801b57b526b' +
    '0000000c494441540899636868680000030401811eceffa60000000049454e44ae426082',
  'hex',
);

/** Creates a fresh temp folder; `cleanup` removes it. */
export function tempRoot(prefix: string): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), `rwda-${prefix}-`));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Writes `files` (relative path → content; paths ending in '/' make empty folders) under `root`. */
export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    if (rel.endsWith('/')) {
      mkdirSync(p, { recursive: true });
      continue;
    }
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** `{ 'a/000.png': PNG, 'a/001.png': PNG, ... }` for `count` images named 000.png … in `dir`. */
export function pngs(dir: string, count: number, ext = '.png'): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (let i = 0; i < count; i++) out[`${dir}/${String(i).padStart(3, '0')}${ext}`] = PNG_1X1;
  return out;
}
