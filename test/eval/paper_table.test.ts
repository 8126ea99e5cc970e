// renderPaperTable: every printed cell of a table beside ours and the difference, and a verdict that counts right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPaperTable, type OursLookup } from '../../src/eval/report/paper_table.ts';
import { PAPER_TABLE_IDS, paperCells, type PaperCell } from '../../src/eval/report/paper_tables.ts';

const OUR_METHODS = new Set(['CLIP', 'ours', 'CLIP+ours']);
// Test data: ours = paper + 0.2 on even cells, + 1.5 on odd ones (by position in paperCells), only for our methods.
const offsets = new Map<PaperCell, number>(paperCells().map((c, i) => [c, i % 2 === 0 ? 0.2 : 1.5]));
const ours: OursLookup = (c) => (OUR_METHODS.has(c.method) ? { mean: c.value.mean + offsets.get(c)!, std: 0.1 } : undefined);

test('Table 1: every printed cell appears with paper value, ours and Δ; reference methods show only the paper', () => {
  const r = renderPaperTable('table1', ours);
  const cells = paperCells().filter((c) => c.table === 'table1');
  assert.equal(r.verdict.printed, cells.length);
  const lines = r.markdown.split('\n');
  for (const c of cells) {
    const setupLabel = { zero_unknown: '0-shot (unknown object)', zero_known: '0-shot (known object)', one_shot: '1-shot', two_shot: '2-shot', four_shot: '4-shot' }[c.setup!];
    const line = lines.find((l) => l.startsWith(`| ${setupLabel} | ${c.method} |`));
    assert.ok(line, `${c.setup} ${c.method}`);
    const col = (c.dataset === 'mvtec' ? 0 : 3) + ['auroc', 'aupr', 'f1max'].indexOf(c.metric);
    const parts = line.split(' | ').slice(2).map((s) => s.replace(/ \|$/, ''));
    const paper = c.value.std === undefined ? c.value.mean.toFixed(1) : `${c.value.mean.toFixed(1)} ± ${c.value.std.toFixed(1)}`;
    assert.equal(parts[col * 3], paper, `${c.setup} ${c.method} ${c.dataset} ${c.metric}`);
    if (OUR_METHODS.has(c.method)) {
      const d = offsets.get(c)!;
      assert.equal(parts[col * 3 + 1], `${(c.value.mean + d).toFixed(1)} ± 0.1`);
      assert.equal(parts[col * 3 + 2], `+${d.toFixed(1)}`);
    } else {
      assert.equal(parts[col * 3 + 1], '—');
      assert.equal(parts[col * 3 + 2], '—');
    }
  }
  // RegAD prints only MVTec AUROC: its other columns are "—" in all three places.
  const regad = lines.find((l) => l.startsWith('| 2-shot | RegAD |'))!;
  const regadParts = regad.split(' | ').slice(2).map((s) => s.replace(/ \|$/, ''));
  assert.equal(regadParts.length, 18);
  assert.equal(regadParts[0], '85.7');
  assert.equal(regadParts.filter((s) => s === '—').length, 17);
  const expected = cells.filter((c) => OUR_METHODS.has(c.method));
  assert.equal(r.verdict.cells, expected.length);
  assert.equal(r.verdict.withinPaperStd, expected.filter((c) => offsets.get(c)! <= (c.value.std ?? 0.05)).length);
  assert.ok(r.verdict.withinPaperStd > 0 && r.verdict.withinPaperStd < r.verdict.cells);
  assert.ok(r.markdown.includes(`${r.verdict.withinPaperStd} of ${r.verdict.cells} compared cells`));
  // HTML: one paper/ours/Δ triple per column per row, every printed value present.
  assert.equal((r.html.match(/<td/g) ?? []).length, 23 * 6 * 3);
  assert.equal((r.html.match(/class="within"/g) ?? []).length, r.verdict.withinPaperStd);
  assert.equal((r.html.match(/class="outside"/g) ?? []).length, r.verdict.cells - r.verdict.withinPaperStd);
});

test('verdict: exact agreement is within; a paper number without ± allows its rounding only', () => {
  const exact = renderPaperTable('table4', (c) => ({ mean: c.value.mean }));
  assert.deepEqual(exact.verdict, { cells: 9, withinPaperStd: 9, printed: 9 });
  const off = renderPaperTable('table4', (c) => ({ mean: c.value.mean + 0.5 }));
  // CLIP prints no ±: 0.5 is outside; ours and CLIP+ours print ± ≥ 0.7: inside.
  assert.deepEqual(off.verdict, { cells: 9, withinPaperStd: 6, printed: 9 });
  assert.deepEqual(renderPaperTable('table4', () => undefined).verdict, { cells: 0, withinPaperStd: 0, printed: 9 });
});

test('every table renders all its printed cells', () => {
  for (const id of PAPER_TABLE_IDS) {
    const r = renderPaperTable(id, ours);
    assert.equal(r.verdict.printed, paperCells().filter((c) => c.table === id).length, id);
    assert.ok(r.html.startsWith('<table class="paper-table">'), id);
  }
  const t3 = renderPaperTable('table3', ours).markdown;
  assert.match(t3, /\| "an" \| CLIP\+ours \| 92\.2 ± 0\.3 \|/);
  assert.match(t3, /Section 4\.2/);
  assert.match(renderPaperTable('table1', ours).notes[0]!, /Section 4\.2 says "a".*print "an"/);
  assert.deepEqual(renderPaperTable('table4', ours).notes, []);
  assert.match(renderPaperTable('appendix', ours).notes[1]!, /83\.97 vs 83\.4/);
  const app = renderPaperTable('appendix', ours).markdown;
  assert.match(app, /\| Metal nut \| 94\.4 \|/);
});
