import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VISA_CATEGORIES, VISA_PROMPT_NAMES, loadVisa } from '../../src/data/visa.ts';
import { displayPath } from '../../src/data/images.ts';
import { formatLoadSummary } from '../../src/data/summary.ts';
import { PNG_1X1, tempRoot, writeTree } from './tree.ts';

const HEADER = 'object,split,label,image,mask';

/** Real VisA layout: `<object>/Data/Images/{Normal,Anomaly}/*.JPG`, masks under `Data/Masks`. */
function buildVisa(root: string, extraRows: string[] = []): string {
  const files: Record<string, Buffer> = {};
  const rows: string[] = [HEADER];
  for (const obj of ['candle', 'pipe_fryum']) {
    for (const n of ['0000', '0001', '0002']) files[`${obj}/Data/Images/Normal/${n}.JPG`] = PNG_1X1;
    for (const n of ['000', '001']) {
      files[`${obj}/Data/Images/Anomaly/${n}.JPG`] = PNG_1X1;
      files[`${obj}/Data/Masks/Anomaly/${n}.png`] = PNG_1X1;
    }
    rows.push(`${obj},train,normal,${obj}/Data/Images/Normal/0002.JPG,`);
    rows.push(`${obj},test,normal,${obj}/Data/Images/Normal/0000.JPG,`);
    rows.push(`${obj},test,normal,${obj}/Data/Images/Normal/0001.JPG,`);
    rows.push(`${obj},test,anomaly,${obj}/Data/Images/Anomaly/001.JPG,${obj}/Data/Masks/Anomaly/001.png`);
    rows.push(`${obj},test,anomaly,${obj}/Data/Images/Anomaly/000.JPG,${obj}/Data/Masks/Anomaly/000.png`);
  }
  writeTree(root, files);
  const csv = join(root, 'split_csv', '1cls.csv');
  writeTree(root, { 'split_csv/1cls.csv': [...rows, ...extraRows].join('\n') + '\n' });
  return csv;
}

test('12 categories; prompt names spell out chewinggum and pipe_fryum, keep numbered variants', () => {
  assert.equal(VISA_CATEGORIES.length, 12);
  assert.equal(VISA_PROMPT_NAMES['chewinggum'], 'chewing gum');
  assert.equal(VISA_PROMPT_NAMES['pipe_fryum'], 'pipe fryum');
  assert.equal(VISA_PROMPT_NAMES['pcb1'], 'pcb1');
  assert.equal(VISA_PROMPT_NAMES['macaroni2'], 'macaroni2');
  assert.equal(VISA_PROMPT_NAMES['capsules'], 'capsules');
});

test('test split only, in canonical category order then path', () => {
  const t = tempRoot('visa');
  try {
    buildVisa(t.root);
    const r = loadVisa(t.root);
    assert.deepEqual(r.categories, ['candle', 'pipe_fryum']);
    assert.deepEqual(
      r.items.map((i) => [displayPath(t.root, i.path), i.category, i.label, i.defectType, i.promptName]),
      [
        ['candle/Data/Images/Anomaly/000.JPG', 'candle', 1, 'anomaly', 'candle'],
        ['candle/Data/Images/Anomaly/001.JPG', 'candle', 1, 'anomaly', 'candle'],
        ['candle/Data/Images/Normal/0000.JPG', 'candle', 0, 'good', 'candle'],
        ['candle/Data/Images/Normal/0001.JPG', 'candle', 0, 'good', 'candle'],
        ['pipe_fryum/Data/Images/Anomaly/000.JPG', 'pipe_fryum', 1, 'anomaly', 'pipe fryum'],
        ['pipe_fryum/Data/Images/Anomaly/001.JPG', 'pipe_fryum', 1, 'anomaly', 'pipe fryum'],
        ['pipe_fryum/Data/Images/Normal/0000.JPG', 'pipe_fryum', 0, 'good', 'pipe fryum'],
        ['pipe_fryum/Data/Images/Normal/0001.JPG', 'pipe_fryum', 0, 'good', 'pipe fryum'],
      ],
    );
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(r.notes, ['VisA: 2 train rows left out (test split only)']);
    // The mask column becomes maskPath for anomalous rows; normal rows have none.
    assert.deepEqual(
      r.items.map((i) => [i.label, i.maskPath && displayPath(t.root, i.maskPath), i.maskMissing]),
      [
        [1, 'candle/Data/Masks/Anomaly/000.png', undefined],
        [1, 'candle/Data/Masks/Anomaly/001.png', undefined],
        [0, undefined, undefined],
        [0, undefined, undefined],
        [1, 'pipe_fryum/Data/Masks/Anomaly/000.png', undefined],
        [1, 'pipe_fryum/Data/Masks/Anomaly/001.png', undefined],
        [0, undefined, undefined],
        [0, undefined, undefined],
      ],
    );
    const sub = loadVisa(t.root, { categories: ['pipe_fryum'] });
    assert.deepEqual(sub.categories, ['pipe_fryum']);
    assert.equal(sub.items.length, 4);
    assert.deepEqual(sub.notes, ['VisA: 2 train rows left out (test split only)', 'VisA: 4 test rows of unselected categories left out']);
    assert.throws(() => loadVisa(t.root, { categories: ['pcb5'] }), /unknown VisA category 'pcb5'; valid categories: candle, capsules/);
    assert.throws(() => loadVisa(t.root, { categories: ['pcb1'] }), /VisA category 'pcb1': no images found in test rows of/);
  } finally {
    t.cleanup();
  }
});

test('an anomalous row without its mask is flagged, not taken as all-normal; so is a CSV without a mask column', () => {
  const t = tempRoot('visa-mask');
  try {
    const csv = buildVisa(t.root);
    const text = readFileSync(csv, 'utf8')
      .replace('candle/Data/Masks/Anomaly/001.png', '')
      .replace('pipe_fryum/Data/Masks/Anomaly/000.png', 'pipe_fryum/Data/Masks/Anomaly/nope.png');
    writeFileSync(csv, text);
    const r = loadVisa(t.root);
    const flagged = r.items.filter((i) => i.maskMissing).map((i) => displayPath(t.root, i.path));
    assert.deepEqual(flagged, ['candle/Data/Images/Anomaly/001.JPG', 'pipe_fryum/Data/Images/Anomaly/000.JPG']);
    assert.ok(r.items.filter((i) => i.maskMissing).every((i) => i.maskPath === undefined && i.label === 1));
    assert.match(r.notes.at(-1)!, /^VisA: 2 anomalous images have no mask \(.*1cls\.csv lines 5, 11 \(pipe_fryum\/Data\/Masks\/Anomaly\/nope\.png not found\)\)/);
    // Without the column at all.
    writeFileSync(csv, text.split('\n').map((l) => l.split(',').slice(0, 4).join(',')).join('\n'));
    const r2 = loadVisa(t.root);
    assert.equal(r2.items.filter((i) => i.maskMissing).length, 4);
    assert.match(r2.notes.at(-1)!, /4 anomalous images have no mask \(.*1cls\.csv has no mask column\)/);
  } finally {
    t.cleanup();
  }
});

test('bad rows and missing files are skipped with line numbers and counted exactly', () => {
  const t = tempRoot('visa-bad');
  try {
    const csv = buildVisa(t.root, [
      'candle,test,anomaly,candle/Data/Images/Anomaly/999.JPG,', // line 12: missing file
      'candle,test,abnormal,candle/Data/Images/Anomaly/000.JPG,', // line 13: bad label
      'candle,test', // line 14: short row
      'widget,test,normal,widget/a.JPG,', // line 15: unknown object
      'candle,val,normal,candle/Data/Images/Normal/0000.JPG,', // line 16: bad split
      'candle,test,normal,candle/Data/Images/Normal/0000.JPG,', // line 17: duplicate
      'candle,test,normal,candle/Data/notes.txt,', // line 18: not an image
      'candle,test,normal,,', // line 19: empty path
      '"candle","test","anomaly","candle/Data/Images/Anomaly/100, copy.JPG",""', // line 20: quoted, exists
    ]);
    writeTree(t.root, { 'candle/Data/Images/Anomaly/100, copy.JPG': PNG_1X1 });
    const r = loadVisa(t.root);
    assert.equal(r.items.length, 9);
    assert.ok(r.items.some((i) => i.path.endsWith('100, copy.JPG') && i.label === 1));
    assert.deepEqual(
      r.skipped.map((s) => [s.kind, s.reason.replace(csv, 'CSV')]),
      [
        ['missing-file', `CSV: line 12: image file not found: ${join(t.root, 'candle/Data/Images/Anomaly/999.JPG')}`],
        ['bad-row', "CSV: line 13: label 'abnormal' is neither normal nor anomaly"],
        ['bad-row', 'CSV: line 14: 2 fields, the header needs at least 4'],
        ['unknown-category', `CSV: line 15: object 'widget' is not a VisA category (${VISA_CATEGORIES.join(', ')})`],
        ['bad-row', "CSV: line 16: split 'val' is neither train nor test"],
        ['duplicate', 'CSV: line 17: image listed again: candle/Data/Images/Normal/0000.JPG'],
        ['bad-row', "CSV: line 18: 'candle/Data/notes.txt' has no image extension (.txt)"],
        ['bad-row', 'CSV: line 19: empty image path'],
      ],
    );
    assert.equal(
      formatLoadSummary('VisA', r),
      'VisA: 9 images in 2 categories (4 normal, 5 anomalous); skipped 8: 1 row pointing at a missing file, ' +
        '5 bad CSV rows, 1 duplicate, 1 row with an unknown object',
    );
  } finally {
    t.cleanup();
  }
});

test('hard errors: missing root, missing CSV, missing column, one class, all images missing', () => {
  const t = tempRoot('visa-broken');
  try {
    assert.throws(() => loadVisa(join(t.root, 'nope')), /VisA root: folder not found/);
    assert.throws(() => loadVisa(t.root), /VisA: split file not found: .*split_csv\/1cls\.csv/);
    const csv = buildVisa(t.root);
    writeFileSync(csv, 'object,split,image\ncandle,test,a.JPG\n');
    assert.throws(() => loadVisa(t.root), /1cls\.csv: line 1: header lacks column label \(header found: "object", "split", "image"\)/);
    writeFileSync(csv, `${HEADER}\ncandle,test,normal,candle/Data/Images/Normal/0000.JPG,\n`);
    assert.throws(() => loadVisa(t.root), /VisA category 'candle': 1 normal and 0 anomalous images in test rows of .*; both classes/);
    rmSync(join(t.root, 'candle'), { recursive: true });
    writeFileSync(csv, `${HEADER}\ncandle,test,normal,candle/a.JPG,\ncandle,test,anomaly,candle/b.JPG,\n`);
    assert.throws(
      () => loadVisa(t.root),
      /VisA category 'candle': no images found in test rows of .* \(skipped: 2 rows pointing at missing files\)/,
    );
    writeFileSync(csv, `${HEADER}\ncandle,train,normal,candle/a.JPG,\n`);
    assert.throws(() => loadVisa(t.root), /has no usable test rows \(1 data row, 1 train\)/);
  } finally {
    t.cleanup();
  }
});
