import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEWERML_DEFECT_CODES, loadSewerMl } from '../../src/data/sewerml.ts';
import { displayPath } from '../../src/data/images.ts';
import { loadDataset } from '../../src/data/index.ts';
import { formatLoadSummary } from '../../src/data/summary.ts';
import { PNG_1X1, tempRoot, writeTree } from './tree.ts';

// Header of the official annotation files: file name, binary Defect, the 17 defect codes, VA (water level) and ND.
const CODES = ['VA', ...SEWERML_DEFECT_CODES, 'ND'];
const HEADER = ['Filename', 'Defect', ...CODES].join(',');

function row(file: string, defect: string, set: string[] = []): string {
  return [file, defect, ...CODES.map((c) => (set.includes(c) ? '1' : '0'))].join(',');
}

test('Val CSV plus image folder (direct and nested files); defect codes become the defect type', () => {
  const t = tempRoot('sewer');
  try {
    writeTree(t.root, {
      'Val/00001.png': PNG_1X1,
      'Val/00002.png': PNG_1X1,
      'Val/part1/00003.png': PNG_1X1,
      'Val/part2/00004.png': PNG_1X1,
      'Val/part1/dup.png': PNG_1X1,
      'Val/part2/dup.png': PNG_1X1,
    });
    const csv = join(t.root, 'SewerML_Val.csv');
    writeFileSync(
      csv,
      [
        HEADER,
        row('00001.png', '0', ['VA']), // line 2
        row('00002.png', '1', ['RB', 'FS']), // line 3
        row('00003.png', '1', ['RO']), // line 4: found by name below part1/
        row('00004.png', '0'), // line 5
        row('00009.png', '1', ['OB']), // line 6: missing
        row('dup.png', '0'), // line 7: two files of that name
        row('00002.png', '1', ['RB']), // line 8: duplicate
        row('00005.png', 'yes'), // line 9: bad Defect
        '00006.png', // line 10: short row
        row('', '0'), // line 11: empty file name
      ].join('\r\n'),
    );
    const r = loadSewerMl(csv, join(t.root, 'Val'));
    assert.deepEqual(r.categories, ['sewer']);
    assert.deepEqual(
      r.items.map((i) => [displayPath(t.root, i.path), i.label, i.defectType, i.category, i.promptName]),
      [
        ['Val/00001.png', 0, 'good', 'sewer', 'pipe'],
        ['Val/00002.png', 1, 'RB+FS', 'sewer', 'pipe'],
        ['Val/part1/00003.png', 1, 'RO', 'sewer', 'pipe'],
        ['Val/part2/00004.png', 0, 'good', 'sewer', 'pipe'],
      ],
    );
    assert.deepEqual(
      r.skipped.map((s) => [s.kind, s.reason.replace(csv, 'CSV').replaceAll(join(t.root, 'Val'), 'DIR')]),
      [
        ['missing-file', "CSV: line 6: image '00009.png' not found under DIR"],
        ['ambiguous-file', `CSV: line 7: 2 files named 'dup.png' under DIR: DIR/part1/dup.png, DIR/part2/dup.png`],
        ['duplicate', 'CSV: line 8: image listed again: 00002.png'],
        ['bad-row', "CSV: line 9: Defect is 'yes', expected 0 or 1"],
        ['bad-row', 'CSV: line 10: 1 field, the header needs at least 2'],
        ['bad-row', 'CSV: line 11: empty Filename'],
      ],
    );
    assert.equal(
      formatLoadSummary('Sewer-ML', r),
      'Sewer-ML: 4 images in 1 category (2 normal, 2 anomalous); skipped 6: 1 row pointing at a missing file, ' +
        '1 row matching several files, 3 bad CSV rows, 1 duplicate',
    );
    const renamed = loadDataset({ kind: 'sewerml', csv, imageDir: join(t.root, 'Val'), promptName: 'sewer pipe' });
    assert.ok(renamed.items.every((i) => i.promptName === 'sewer pipe'));
  } finally {
    t.cleanup();
  }
});

test('without code columns an anomalous row has defect type "defect"; column order is free', () => {
  const t = tempRoot('sewer-min');
  try {
    writeTree(t.root, { 'img/a.jpg': PNG_1X1, 'img/b.jpg': PNG_1X1 });
    const csv = join(t.root, 'val.csv');
    writeFileSync(csv, 'Defect,Other,Filename\n1,x,a.jpg\n0,y,b.jpg\n');
    const r = loadSewerMl(csv, join(t.root, 'img'));
    assert.deepEqual(r.items.map((i) => [i.label, i.defectType]), [[1, 'defect'], [0, 'good']]);
  } finally {
    t.cleanup();
  }
});

test('hard errors: missing CSV, missing image folder, missing column, single class, no rows', () => {
  const t = tempRoot('sewer-broken');
  try {
    writeTree(t.root, { 'img/a.jpg': PNG_1X1 });
    const csv = join(t.root, 'SewerML_Val.csv');
    assert.throws(() => loadSewerMl(csv, join(t.root, 'img')), /SewerML_Val\.csv: CSV file not found/);
    writeFileSync(csv, 'Filename,Defect\na.jpg,1\n');
    assert.throws(() => loadSewerMl(csv, join(t.root, 'nope')), /Sewer-ML image folder: folder not found/);
    assert.throws(
      () => loadSewerMl(csv, join(t.root, 'img')),
      /Sewer-ML category 'sewer': 0 normal and 1 anomalous images in .*SewerML_Val\.csv with images in .*img; both classes/,
    );
    writeFileSync(csv, 'Filename,Label\na.jpg,1\n');
    assert.throws(() => loadSewerMl(csv, join(t.root, 'img')), /line 1: header lacks column Defect/);
    writeFileSync(csv, 'Filename,Defect\n');
    assert.throws(() => loadSewerMl(csv, join(t.root, 'img')), /has a header but no rows/);
    writeFileSync(csv, 'Filename,Defect\nx.jpg,0\ny.jpg,1\n');
    assert.throws(
      () => loadSewerMl(csv, join(t.root, 'img')),
      /'sewer': no images found in .* \(skipped: 2 rows pointing at missing files\)/,
    );
  } finally {
    t.cleanup();
  }
});
