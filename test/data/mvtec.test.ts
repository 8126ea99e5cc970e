import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MVTEC_CATEGORIES, loadMvtec, mvtecPromptName, referenceImages } from '../../src/data/mvtec.ts';
import { displayPath } from '../../src/data/images.ts';
import { formatLoadSummary } from '../../src/data/summary.ts';
import { RwdaError } from '../../src/errors.ts';
import { PNG_1X1, pngs, tempRoot, writeTree } from './tree.ts';

/** Two categories in the real MVTec AD layout, with masks, train images and a few oddities. */
function buildMvtec(root: string): void {
  writeTree(root, {
    ...pngs('bottle/train/good', 4),
    ...pngs('bottle/test/good', 3),
    ...pngs('bottle/test/broken_large', 2),
    ...pngs('bottle/test/contamination', 1),
    'bottle/ground_truth/broken_large/000_mask.png': PNG_1X1,
    'bottle/ground_truth/broken_large/001_mask.png': PNG_1X1,
    'metal_nut/ground_truth/color/000_mask.png': PNG_1X1,
    'metal_nut/ground_truth/color/001_mask.png': PNG_1X1,
    ...pngs('metal_nut/train/good', 2),
    ...pngs('metal_nut/test/good', 2),
    ...pngs('metal_nut/test/color', 2),
    'metal_nut/test/color/notes.txt': 'x',
    'metal_nut/test/flip/': '',
    'metal_nut/test/stray.png': PNG_1X1,
    'license.txt': 'x',
  });
}

test('the 15 categories and their prompt names', () => {
  assert.equal(MVTEC_CATEGORIES.length, 15);
  assert.equal(mvtecPromptName('metal_nut'), 'metal nut');
  assert.equal(mvtecPromptName('toothbrush'), 'toothbrush');
});

test('real layout: test/good normal, test/<defect> anomalous, ground_truth and train ignored', () => {
  const t = tempRoot('mvtec');
  try {
    buildMvtec(t.root);
    const r = loadMvtec(t.root);
    assert.deepEqual(r.categories, ['bottle', 'metal_nut']);
    assert.deepEqual(
      r.items.map((i) => [displayPath(t.root, i.path), i.category, i.label, i.defectType, i.promptName]),
      [
        ['bottle/test/broken_large/000.png', 'bottle', 1, 'broken_large', 'bottle'],
        ['bottle/test/broken_large/001.png', 'bottle', 1, 'broken_large', 'bottle'],
        ['bottle/test/contamination/000.png', 'bottle', 1, 'contamination', 'bottle'],
        ['bottle/test/good/000.png', 'bottle', 0, 'good', 'bottle'],
        ['bottle/test/good/001.png', 'bottle', 0, 'good', 'bottle'],
        ['bottle/test/good/002.png', 'bottle', 0, 'good', 'bottle'],
        ['metal_nut/test/color/000.png', 'metal_nut', 1, 'color', 'metal nut'],
        ['metal_nut/test/color/001.png', 'metal_nut', 1, 'color', 'metal nut'],
        ['metal_nut/test/good/000.png', 'metal_nut', 0, 'good', 'metal nut'],
        ['metal_nut/test/good/001.png', 'metal_nut', 0, 'good', 'metal nut'],
      ],
    );
    assert.deepEqual(
      r.skipped.map((s) => [s.kind, s.category, displayPath(t.root, s.path!)]),
      [
        ['non-image', 'metal_nut', 'metal_nut/test/color/notes.txt'],
        ['empty-folder', 'metal_nut', 'metal_nut/test/flip'],
        ['stray-file', 'metal_nut', 'metal_nut/test/stray.png'],
      ],
    );
    assert.deepEqual(r.notes, [
      'MVTec AD: 2 of 15 categories present; absent: ' +
        MVTEC_CATEGORIES.filter((c) => c !== 'bottle' && c !== 'metal_nut').join(', '),
      `MVTec AD category 'bottle': 1 anomalous image has no mask in ${join(t.root, 'bottle', 'ground_truth')} ` +
        '(contamination/000.png); they are flagged maskMissing and must be left out of pixel metrics',
    ]);
    // Masks: ground_truth/<defect>/<name>_mask.png for defect images; good images have none and are not flagged.
    assert.deepEqual(
      r.items.map((i) => [displayPath(t.root, i.path), i.maskPath && displayPath(t.root, i.maskPath), i.maskMissing]),
      [
        ['bottle/test/broken_large/000.png', 'bottle/ground_truth/broken_large/000_mask.png', undefined],
        ['bottle/test/broken_large/001.png', 'bottle/ground_truth/broken_large/001_mask.png', undefined],
        ['bottle/test/contamination/000.png', undefined, true],
        ['bottle/test/good/000.png', undefined, undefined],
        ['bottle/test/good/001.png', undefined, undefined],
        ['bottle/test/good/002.png', undefined, undefined],
        ['metal_nut/test/color/000.png', 'metal_nut/ground_truth/color/000_mask.png', undefined],
        ['metal_nut/test/color/001.png', 'metal_nut/ground_truth/color/001_mask.png', undefined],
        ['metal_nut/test/good/000.png', undefined, undefined],
        ['metal_nut/test/good/001.png', undefined, undefined],
      ],
    );
    assert.equal(
      formatLoadSummary('MVTec AD', r),
      'MVTec AD: 10 images in 2 categories (5 normal, 5 anomalous); skipped 3: 1 non-image file, ' +
        '1 image outside the expected folders, 1 empty folder',
    );
  } finally {
    t.cleanup();
  }
});

test('a category without ground_truth/ flags every defect image, never treats it as normal', () => {
  const t = tempRoot('mvtec-nogt');
  try {
    writeTree(t.root, { ...pngs('screw/test/good', 2), ...pngs('screw/test/thread_top', 2) });
    const r = loadMvtec(t.root);
    assert.deepEqual(
      r.items.map((i) => [i.defectType, i.maskMissing ?? false, i.maskPath]),
      [
        ['good', false, undefined],
        ['good', false, undefined],
        ['thread_top', true, undefined],
        ['thread_top', true, undefined],
      ],
    );
    assert.match(r.notes.at(-1)!, /'screw': 2 anomalous images have no mask .*thread_top\/000\.png, thread_top\/001\.png/);
  } finally {
    t.cleanup();
  }
});

test('category subset; unknown names list the valid ones', () => {
  const t = tempRoot('mvtec-subset');
  try {
    buildMvtec(t.root);
    const r = loadMvtec(t.root, { categories: ['metal_nut'] });
    assert.deepEqual(r.categories, ['metal_nut']);
    assert.equal(r.items.length, 4);
    assert.deepEqual(r.notes, []);
    assert.throws(
      () => loadMvtec(t.root, { categories: ['metal nut', 'bottle'] }),
      /unknown MVTec AD category 'metal nut'; valid categories: bottle, cable, capsule, carpet, grid, hazelnut, leather, metal_nut, pill, screw, tile, toothbrush, transistor, wood, zipper/,
    );
    assert.throws(() => loadMvtec(t.root, { categories: ['cable'] }), /category folder missing in .*: cable/);
    assert.throws(() => loadMvtec(t.root, { categories: [] }), /category list is empty/);
  } finally {
    t.cleanup();
  }
});

test('an unknown category folder is an error unless a subset is asked for', () => {
  const t = tempRoot('mvtec-unknown');
  try {
    buildMvtec(t.root);
    writeTree(t.root, pngs('bottles/test/good', 1));
    assert.throws(() => loadMvtec(t.root), /unknown category folder 'bottles' in .*; valid categories: bottle, cable, .*zipper \(pass a category list/);
    assert.equal(loadMvtec(t.root, { categories: ['bottle'] }).items.length, 6);
  } finally {
    t.cleanup();
  }
});

test('broken trees: missing root, missing test folder, empty category, one class only', () => {
  const t = tempRoot('mvtec-broken');
  try {
    assert.throws(() => loadMvtec(join(t.root, 'nope')), /MVTec AD root: folder not found/);
    assert.throws(() => loadMvtec(t.root), /no category folders in .*; expected some of: bottle/);
    writeTree(t.root, pngs('cable/train/good', 2));
    assert.throws(() => loadMvtec(t.root), /MVTec AD category 'cable': folder not found: .*cable\/test/);
    writeTree(t.root, { 'cable/test/good/': '', 'cable/test/bent_wire/': '', 'cable/test/readme.md': 'x' });
    assert.throws(
      () => loadMvtec(t.root),
      /^RwdaError: MVTec AD category 'cable': no images found in .*cable\/test \(skipped: 1 non-image file, 2 empty folders\)$/,
    );
    writeTree(t.root, pngs('cable/test/good', 3));
    assert.throws(
      () => loadMvtec(t.root),
      /MVTec AD category 'cable': 3 normal and 0 anomalous images in .*; both classes are needed/,
    );
    rmSync(join(t.root, 'cable', 'test', 'good'), { recursive: true });
    writeTree(t.root, pngs('cable/test/bent_wire', 2));
    assert.throws(() => loadMvtec(t.root), /'cable': 0 normal and 2 anomalous images/);
  } finally {
    t.cleanup();
  }
});

test('referenceImages: train/good sorted; missing, empty and unknown are errors', () => {
  const t = tempRoot('mvtec-ref');
  try {
    buildMvtec(t.root);
    writeTree(t.root, { 'bottle/train/good/Thumbs.db': 'x', 'pill/train/good/': '', 'pill/train/good/a.txt': 'x' });
    assert.deepEqual(
      referenceImages(t.root, 'bottle').map((p) => displayPath(t.root, p)),
      ['bottle/train/good/000.png', 'bottle/train/good/001.png', 'bottle/train/good/002.png', 'bottle/train/good/003.png'],
    );
    assert.throws(() => referenceImages(t.root, 'pill'), /'pill': no reference images in .* \(1 non-image file\)/);
    assert.throws(() => referenceImages(t.root, 'screw'), /'screw' reference images: folder not found/);
    assert.throws(() => referenceImages(t.root, 'hazel'), RwdaError);
  } finally {
    t.cleanup();
  }
});
