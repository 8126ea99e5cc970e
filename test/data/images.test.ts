import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_EXTENSIONS, displayPath, isImageFile, listImages } from '../../src/data/images.ts';
import { PNG_1X1, tempRoot, writeTree } from './tree.ts';

test('image extensions, case-insensitive; hidden files are not images', () => {
  assert.deepEqual([...IMAGE_EXTENSIONS], ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);
  for (const name of ['a.png', 'a.JPG', 'b.Jpeg', 'c.bmp', 'd.TIF', 'e.tiff', 'f.webp', '/x/y/z.PNG']) {
    assert.ok(isImageFile(name), name);
  }
  for (const name of ['a.gif', 'a.txt', 'png', 'a.png.txt', '.hidden.png', '/x/._a.png', 'Thumbs.db']) {
    assert.ok(!isImageFile(name), name);
  }
});

test('recursive listing is sorted by code unit, splits non-images and honours excludeDirs', () => {
  const t = tempRoot('images');
  try {
    writeTree(t.root, {
      'b/2.png': PNG_1X1,
      'b/10.png': PNG_1X1,
      'a/deep/er/x.JPG': PNG_1X1,
      'B.png': PNG_1X1,
      'notes.txt': 'x',
      '.DS_Store': 'x',
      'ground_truth/mask.png': PNG_1X1,
      'a/ground_truth/m2.png': PNG_1X1,
      'empty/': '',
    });
    const all = listImages(t.root);
    assert.deepEqual(
      all.images.map((p) => displayPath(t.root, p)),
      ['B.png', 'a/deep/er/x.JPG', 'a/ground_truth/m2.png', 'b/10.png', 'b/2.png', 'ground_truth/mask.png'],
    );
    assert.deepEqual(
      all.nonImages.map((p) => displayPath(t.root, p)),
      ['.DS_Store', 'notes.txt'],
    );
    const some = listImages(t.root, { excludeDirs: ['ground_truth'] });
    assert.deepEqual(
      some.images.map((p) => displayPath(t.root, p)),
      ['B.png', 'a/deep/er/x.JPG', 'b/10.png', 'b/2.png'],
    );
  } finally {
    t.cleanup();
  }
});

test('symlink loops are cut and dangling links reported as non-images', () => {
  const t = tempRoot('images-links');
  try {
    writeTree(t.root, { 'd/a.png': PNG_1X1 });
    symlinkSync(t.root, join(t.root, 'd', 'loop'));
    symlinkSync(join(t.root, 'missing.png'), join(t.root, 'dangling.png'));
    const r = listImages(t.root);
    assert.deepEqual(r.images.map((p) => displayPath(t.root, p)), ['d/a.png']);
    assert.deepEqual(r.nonImages.map((p) => displayPath(t.root, p)), ['dangling.png']);
  } finally {
    t.cleanup();
  }
});

test('a missing folder or a file instead of a folder is an error', () => {
  const t = tempRoot('images-missing');
  try {
    writeTree(t.root, { 'f.png': PNG_1X1 });
    assert.throws(() => listImages(join(t.root, 'nope')), /folder not found: .*nope/);
    assert.throws(() => listImages(join(t.root, 'f.png')), /not a folder: .*f\.png/);
  } finally {
    t.cleanup();
  }
});
