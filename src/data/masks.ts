/**
 * Attaching ground-truth masks to loaded items. MVTec AD keeps them in `<category>/ground_truth/<defect>/<name>_mask.png`
 * beside `test/`; the generic folder layout may carry a `ground_truth/` mirroring its own sub-folders. In both, a
 * mask is `<rel>_mask.png` or `<rel>.png`, where `<rel>` is the image's path below the labelled folder without its
 * extension. An anomalous image without a mask is flagged (`maskMissing`), never taken as all-normal: that would
 * count its defect pixels as normal ones in every pixel metric.
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { DatasetItem } from './types.ts';

/** Every file below `root`, as `/`-separated relative paths; empty when `root` is absent. */
function listRelative(root: string): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
      if (e.isDirectory()) walk(join(dir, e.name), rel);
      else out.add(rel);
    }
  };
  walk(root, '');
  return out;
}

/**
 * Sets `maskPath` on each item of `items` (images below `imageRoot`) whose mask exists under `maskRoot`, and
 * `maskMissing` on anomalous items without one. Returns a note naming the missing ones, or null when none is missing.
 */
export function attachMasks(items: DatasetItem[], imageRoot: string, maskRoot: string, what: string): string | null {
  const files = listRelative(maskRoot);
  const missing: string[] = [];
  for (const item of items) {
    const rel = relative(imageRoot, item.path).split(sep).join('/');
    const dot = rel.lastIndexOf('.');
    const stem = dot > rel.lastIndexOf('/') ? rel.slice(0, dot) : rel;
    const found = [`${stem}_mask.png`, `${stem}.png`].find((m) => files.has(m));
    if (found !== undefined) item.maskPath = join(maskRoot, ...found.split('/'));
    else if (item.label === 1) {
      item.maskMissing = true;
      missing.push(rel);
    }
  }
  if (missing.length === 0) return null;
  const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length - 5} more)` : '');
  return (
    `${what}: ${missing.length} anomalous image${missing.length === 1 ? ' has' : 's have'} no mask in ${maskRoot} ` +
    `(${shown}); they are flagged maskMissing and must be left out of pixel metrics`
  );
}
