// The project's copy of the paper's tables equals the shared transcription, and the lookups reach every number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  categoryKey,
  findPaperCell,
  methodIdOf,
  paperCells,
  paperTableNotes,
  paperTablesJson,
} from '../../src/eval/report/paper_tables.ts';

const SHARED = new URL('../../../shared/paper/tables.json', import.meta.url);

test('paper_tables.json deep-equals /work/shared/paper/tables.json', () => {
  assert.deepEqual(paperTablesJson(), JSON.parse(readFileSync(SHARED, 'utf8')));
});

test('paperCells flattens every printed number exactly once', () => {
  const shared = JSON.parse(readFileSync(SHARED, 'utf8'));
  let printed = 0;
  const count = (v: unknown): void => {
    if (v && typeof v === 'object') {
      if ('mean' in v) printed++;
      else for (const x of Object.values(v)) count(x);
    }
  };
  count(shared.table1.rows);
  count(shared.table2.rows);
  count(shared.table3.cells);
  count(shared.table4.rows);
  count(shared.appendix.tables);
  const cells = paperCells();
  assert.equal(cells.length, printed);
  // 5 setups: 3+3+5+6+6 methods × 2 datasets × 3 metrics, less RegAD (MVTec AUROC only, 2 setups); appendix: (15+12) categories × 3 metrics × 5 setups × 2.
  assert.equal(cells.filter((c) => c.table === 'table1').length, 23 * 6 - 2 * 5);
  assert.equal(cells.filter((c) => c.table === 'appendix').length, 27 * 3 * 5 * 2);
  assert.equal(cells.filter((c) => c.table === 'table3').length, 32);
});

test('findPaperCell maps our keys onto the printed cells', () => {
  const v = (k: Parameters<typeof findPaperCell>[0]) => findPaperCell(k)?.value;
  assert.deepEqual(v({ setup: 'unknown', method: 'clipOurs', dataset: 'mvtec', metric: 'auroc' }), { mean: 92.2, std: 0.3 });
  assert.deepEqual(v({ setup: 'unknown', method: 'ours', dataset: 'visa', metric: 'f1Max' }), { mean: 79.8, std: 0.4 });
  assert.deepEqual(v({ setup: 'known', method: 'clip', dataset: 'visa', metric: 'ap' }), { mean: 80.4 });
  assert.equal(findPaperCell({ setup: 'known', method: 'ours', dataset: 'mvtec', metric: 'auroc' }), undefined);
  assert.deepEqual(v({ setup: 'known', method: 'winclip', dataset: 'mvtec', metric: 'auroc' }), { mean: 91.8 });
  assert.equal(findPaperCell({ setup: 'known', method: 'winclipPlus', dataset: 'mvtec', metric: 'auroc' }), undefined);
  assert.deepEqual(v({ setup: 'known', shots: 1, method: 'winclipPlus', dataset: 'mvtec', metric: 'auroc' }), { mean: 93.1, std: 2.0 });
  assert.deepEqual(v({ setup: 'four_shot', method: 'regad', dataset: 'mvtec', metric: 'auroc' })?.mean !== undefined, true);
  // Appendix: folder names match printed ones.
  assert.deepEqual(v({ setup: 'unknown', method: 'clip', dataset: 'mvtec', category: 'metal_nut', metric: 'auroc' }), { mean: 94.4 });
  assert.equal(categoryKey('pipe_fryum'), categoryKey('Pipe fryum'));
  assert.ok(findPaperCell({ setup: 'unknown', method: 'clipOurs', dataset: 'visa', category: 'pipe_fryum', metric: 'aupr' }));
  // Table 2 (no multi-crop), Table 4 (Sewer-ML), Table 3 (words; "a" and "an" both the default).
  assert.deepEqual(v({ setup: 'unknown', method: 'ours', dataset: 'mvtec', metric: 'auroc', multiCrop: false }), { mean: 89.6, std: 0.6 });
  assert.deepEqual(v({ setup: 'unknown', method: 'clip', dataset: 'sewerml', metric: 'auroc' }), { mean: 79.1 });
  const words = { setup: 'unknown', method: 'clipOurs', dataset: 'mvtec', metric: 'auroc' };
  assert.deepEqual(v({ ...words, normalWord: 'a good', anomalyWord: 'a defective' }), { mean: 86.3, std: 0.4 });
  assert.equal(findPaperCell({ ...words, normalWord: 'a good', anomalyWord: 'a defective', metric: 'f1Max' }), undefined);
  assert.equal(findPaperCell({ ...words, normalWord: 'a', anomalyWord: 'a damaged' })?.table, 'table1');
  assert.equal(findPaperCell({ ...words, normalWord: 'an', anomalyWord: 'a damaged' })?.table, 'table1');
  assert.equal(methodIdOf('WinCLIP', 'two_shot'), 'winclipPlus');
  assert.equal(methodIdOf('CLIP+ours'), 'clipOurs');
});

test('the normal-word ambiguity is among the notes', () => {
  assert.match(paperTableNotes()[0]!, /Section 4\.2 says "a".*"an"/);
});
