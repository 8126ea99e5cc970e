import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnIndex, parseCsv, readCsvFile } from '../../src/data/csv.ts';
import { RwdaError } from '../../src/errors.ts';
import { tempRoot } from './tree.ts';

const fields = (text: string): string[][] => parseCsv(text).map((r) => r.fields);

test('plain records, with and without a final newline', () => {
  assert.deepEqual(fields('a,b\n1,2\n'), [['a', 'b'], ['1', '2']]);
  assert.deepEqual(fields('a,b\n1,2'), [['a', 'b'], ['1', '2']]);
});

test('empty fields are kept', () => {
  assert.deepEqual(fields(',a,\n,,\n'), [['', 'a', ''], ['', '', '']]);
});

test('quoted fields: commas, escaped quotes, embedded CRLF/LF, empty quoted field', () => {
  assert.deepEqual(fields('"a,b","say ""hi""","x\r\ny","",z\n'), [['a,b', 'say "hi"', 'x\ny', '', 'z']]);
});

test('CRLF, LF and lone CR line ends; BOM dropped; blank lines skipped', () => {
  assert.deepEqual(fields('\ufeffa\r\nb\rc\n\n   \r\nd'), [['a'], ['b'], ['c'], ['d']]);
});

test('records keep the line they start on, counting lines inside quotes', () => {
  const recs = parseCsv('h1,h2\n"multi\nline",1\n\nlast,2\n');
  assert.deepEqual(
    recs.map((r) => r.line),
    [1, 2, 5],
  );
});

test('a lone quoted empty field is a record, not a blank line', () => {
  assert.deepEqual(fields('""\n'), [['']]);
});

test('malformed quoting is an error naming source and line', () => {
  assert.throws(() => parseCsv('a,b\n1,"2\n3,4\n', 'f.csv'), /^RwdaError: f\.csv: line 2: unterminated quoted field$/);
  assert.throws(() => parseCsv('a\n"x"y\n', 'f.csv'), /f\.csv: line 2: unexpected text after a closing quote/);
  assert.throws(() => parseCsv('a\nx"y\n', 'f.csv'), /f\.csv: line 2: a quote inside an unquoted field/);
});

test('readCsvFile: header trimmed, rows after it; missing and empty files are errors', () => {
  const t = tempRoot('csv');
  try {
    const p = join(t.root, 'x.csv');
    writeFileSync(p, ' a , b \n1,2\n');
    const table = readCsvFile(p);
    assert.deepEqual(table.header, ['a', 'b']);
    assert.deepEqual(table.rows, [{ line: 2, fields: ['1', '2'] }]);
    writeFileSync(p, '\n\n');
    assert.throws(() => readCsvFile(p), /x\.csv: empty CSV file/);
    assert.throws(() => readCsvFile(join(t.root, 'nope.csv')), RwdaError);
    assert.throws(() => readCsvFile(t.root), /is a directory/);
  } finally {
    t.cleanup();
  }
});

test('columnIndex: exact match first, case-insensitive fallback, missing columns named', () => {
  const col = columnIndex(['Label', 'score', 'label'], ['label', 'score'], 'f.csv');
  assert.equal(col.get('label'), 2);
  assert.equal(col.get('score'), 1);
  assert.equal(columnIndex(['LABEL'], ['label'], 'f.csv').get('label'), 0);
  assert.throws(() => columnIndex(['a'], ['label', 'score'], 'f.csv'), /f\.csv: line 1: header lacks columns label, score \(header found: "a"\)/);
});
