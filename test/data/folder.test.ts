import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadFolder, loadFolderPair } from '../../src/data/folder.ts';
import { loadMvtec } from '../../src/data/mvtec.ts';
import { displayPath } from '../../src/data/images.ts';
import { loadDataset } from '../../src/data/index.ts';
import { formatLoadSummary } from '../../src/data/summary.ts';
import { AD_SAMPLES } from '../helpers/paths.ts';
import { PNG_1X1, pngs, tempRoot, writeTree } from './tree.ts';

test('<root>/good normal, other sub-folders anomalous (nested images keep the top folder as defect)', () => {
  const t = tempRoot('folder');
  try {
    writeTree(t.root, {
      ...pngs('good', 2, '.JPG'),
      ...pngs('good/more', 1, '.bmp'),
      ...pngs('scratch', 2),
      ...pngs('dent/batch1', 1, '.tiff'),
      ...pngs('ground_truth/scratch', 2),
      'scratch/info.json': '{}',
      'loose.webp': PNG_1X1,
      'README.md': 'x',
    });
    const r = loadFolder(t.root, { category: 'widget_x' });
    assert.deepEqual(
      r.items.map((i) => [displayPath(t.root, i.path), i.label, i.defectType, i.category, i.promptName]),
      [
        ['dent/batch1/000.tiff', 1, 'dent', 'widget_x', 'widget x'],
        ['good/000.JPG', 0, 'good', 'widget_x', 'widget x'],
        ['good/001.JPG', 0, 'good', 'widget_x', 'widget x'],
        ['good/more/000.bmp', 0, 'good', 'widget_x', 'widget x'],
        ['scratch/000.png', 1, 'scratch', 'widget_x', 'widget x'],
        ['scratch/001.png', 1, 'scratch', 'widget_x', 'widget x'],
      ],
    );
    assert.deepEqual(
      r.skipped.map((s) => [s.kind, displayPath(t.root, s.path!)]),
      [
        ['non-image', 'README.md'],
        ['stray-file', 'loose.webp'],
        ['non-image', 'scratch/info.json'],
      ],
    );
    // ground_truth/<rel>.png (or <rel>_mask.png) is the mask of <rel>.<ext>; dent/ has none and is flagged.
    assert.deepEqual(r.notes, [
      `folder dataset 'widget_x': masks from ${join(t.root, 'ground_truth')}`,
      `folder dataset 'widget_x': 1 anomalous image has no mask in ${join(t.root, 'ground_truth')} ` +
        '(dent/batch1/000.tiff); they are flagged maskMissing and must be left out of pixel metrics',
    ]);
    assert.deepEqual(
      r.items.map((i) => [displayPath(t.root, i.path), i.maskPath && displayPath(t.root, i.maskPath), i.maskMissing]),
      [
        ['dent/batch1/000.tiff', undefined, true],
        ['good/000.JPG', undefined, undefined],
        ['good/001.JPG', undefined, undefined],
        ['good/more/000.bmp', undefined, undefined],
        ['scratch/000.png', 'ground_truth/scratch/000.png', undefined],
        ['scratch/001.png', 'ground_truth/scratch/001.png', undefined],
      ],
    );
    assert.equal(
      formatLoadSummary('folder dataset', r),
      'folder dataset: 6 images in 1 category (3 normal, 3 anomalous); skipped 3: 2 non-image files, ' +
        '1 image outside the expected folders',
    );
    // Defaults: category from the folder name, ground_truth can be re-included.
    const d = loadFolder(t.root, { excludeDirs: [] });
    assert.equal(d.categories[0], t.root.split('/').pop());
    assert.equal(d.items.filter((i) => i.defectType === 'ground_truth').length, 2);
  } finally {
    t.cleanup();
  }
});

test('folder dataset errors: missing root, no good folder, only good, empty', () => {
  const t = tempRoot('folder-broken');
  try {
    assert.throws(() => loadFolder(join(t.root, 'x')), /dataset folder: folder not found/);
    writeTree(t.root, { ...pngs('crack', 2) });
    assert.throws(() => loadFolder(t.root, { category: 'c' }), /folder dataset category 'c': 0 normal and 2 anomalous images in/);
    const t2 = tempRoot('folder-empty');
    try {
      writeTree(t2.root, { 'good/': '', 'crack/': '' });
      assert.throws(
        () => loadFolder(t2.root, { category: 'c' }),
        /category 'c': no images found in .* \(skipped: 2 empty folders\)$/,
      );
    } finally {
      t2.cleanup();
    }
  } finally {
    t.cleanup();
  }
});

test('explicit normal/anomalous folders', () => {
  const t = tempRoot('folder-pair');
  try {
    writeTree(t.root, { ...pngs('ok', 2), ...pngs('ng', 1), ...pngs('ng/burr', 1), 'ng/x.csv': 'a' });
    const r = loadFolderPair({ normal: join(t.root, 'ok'), anomalous: join(t.root, 'ng') }, { category: 'part' });
    assert.deepEqual(
      r.items.map((i) => [displayPath(t.root, i.path), i.label, i.defectType]),
      [
        ['ng/000.png', 1, 'anomaly'],
        ['ng/burr/000.png', 1, 'burr'],
        ['ok/000.png', 0, 'good'],
        ['ok/001.png', 0, 'good'],
      ],
    );
    assert.deepEqual(r.skipped.map((s) => s.kind), ['non-image']);
    assert.deepEqual(r.categories, ['part']);
    assert.throws(() => loadFolderPair({ normal: t.root, anomalous: join(t.root, 'ng') }), /overlap/);
    writeTree(t.root, { 'empty/': '' });
    assert.throws(
      () => loadFolderPair({ normal: join(t.root, 'ok'), anomalous: join(t.root, 'empty') }),
      /'custom': 2 normal and 0 anomalous images/,
    );
    const viaSpec = loadDataset({ kind: 'folder-pair', normal: join(t.root, 'ok'), anomalous: join(t.root, 'ng') });
    assert.equal(viaSpec.items.length, 4);
  } finally {
    t.cleanup();
  }
});

// The shared samples use `<dataset>/<category>/<good|defect>/` (SOURCES.md), i.e. the generic folder layout, not
// MVTec AD's `test/` layout; ground_truth/ holds masks and is excluded by default.
test('real samples: ad-samples/mvtec_ad/grid through the folder loader', () => {
  const r = loadFolder(join(AD_SAMPLES, 'mvtec_ad', 'grid'));
  assert.deepEqual(r.categories, ['grid']);
  assert.deepEqual(
    r.items.map((i) => `${i.label} ${i.defectType}/${i.path.split('/').pop()}`),
    [
      '1 bent/000.png',
      '1 broken/000.png',
      '1 glue/000.png',
      '0 good/000.png',
      '0 good/001.png',
      '1 metal_contamination/000.png',
      '1 thread/000.png',
    ],
  );
  assert.deepEqual(r.skipped, []);
  assert.equal(r.notes.length, 1);
  assert.match(r.notes[0]!, /masks from .*grid\/ground_truth$/);
  // Every defect image has its MVTec-named mask; the good ones have none.
  for (const i of r.items) {
    if (i.label === 0) assert.equal(i.maskPath, undefined);
    else assert.equal(i.maskPath, join(AD_SAMPLES, 'mvtec_ad', 'grid', 'ground_truth', i.defectType, '000_mask.png'));
    assert.equal(i.maskMissing, undefined);
  }
});

test('real samples: masks decode to the defect pixels, same size as the image', async () => {
  const { readMask } = await import('../../src/data/mask.ts');
  const sharp = (await import('sharp')).default;
  const r = loadFolder(join(AD_SAMPLES, 'hazelnut_toy', 'hazelnut'));
  const defects = r.items.filter((i) => i.label === 1);
  assert.equal(defects.length, 4);
  for (const i of defects) {
    assert.equal(i.maskPath, join(AD_SAMPLES, 'hazelnut_toy', 'hazelnut', 'ground_truth', 'colour', i.path.split('/').pop()!.replace('.jpg', '.png')));
    const m = await readMask(i.maskPath!);
    const meta = await sharp(i.path).metadata();
    assert.deepEqual([m.width, m.height], [meta.width, meta.height]);
    assert.ok(m.nAnomalous > 0 && m.nAnomalous < m.width * m.height, `${i.maskPath}: ${m.nAnomalous} anomalous pixels`);
  }
  const grid = await readMask(join(AD_SAMPLES, 'mvtec_ad', 'grid', 'ground_truth', 'bent', '000_mask.png'));
  assert.deepEqual([grid.width, grid.height], [1024, 1024]);
  assert.ok(grid.nAnomalous > 0 && grid.nAnomalous < 1024 * 1024);
});

test('real samples: hazelnut_toy through the folder loader', () => {
  const r = loadFolder(join(AD_SAMPLES, 'hazelnut_toy', 'hazelnut'));
  assert.equal(formatLoadSummary('folder dataset', r), 'folder dataset: 8 images in 1 category (4 normal, 4 anomalous)');
  assert.ok(r.items.every((i) => i.promptName === 'hazelnut' && i.path.endsWith('.jpg')));
  assert.ok(r.items.every((i) => (i.label === 1) === (i.maskPath !== undefined) && i.maskMissing === undefined));
});

test('real samples are not in MVTec AD layout: the MVTec loader says which folder is missing', () => {
  assert.throws(() => loadMvtec(join(AD_SAMPLES, 'mvtec_ad')), /MVTec AD category 'grid': folder not found: .*grid\/test/);
});
