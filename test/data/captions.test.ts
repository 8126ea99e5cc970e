// Captions for Figure 5: selection and labels of the hand-written COCO-format fixture
// (fixtures/captions_coco.json: 10 normal, 10 damage, 4 inflected damage, 2 look-alikes of
// "normal", 3 with both words, 8 with neither, 1 repeat), the plain-text format, and bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RwdaError } from '../../src/errors.ts';
import { captionLabel, loadCaptions, resolveCaptionMatch } from '../../src/data/captions.ts';

const COCO = join(import.meta.dirname, 'fixtures', 'captions_coco.json');
const TMP = mkdtempSync(join(tmpdir(), 'rwda-captions-'));

test('COCO file, whole words, any case: 10 normal, 10 anomalous; both-word sentences and the repeat left out and counted', () => {
  const s = loadCaptions(COCO);
  assert.equal(s.format, 'coco');
  assert.equal(s.file, COCO);
  assert.deepEqual(s.counts, { read: 38, normal: 10, anomalous: 10, both: 3, duplicates: 1 });
  assert.deepEqual(s.match, { normalWords: ['normal'], anomalyWords: ['damage'], inflections: false, caseSensitive: false, suffixes: [] });
  const normal = s.sentences.filter((c) => c.label === 0).map((c) => c.text);
  const anomalous = s.sentences.filter((c) => c.label === 1).map((c) => c.text);
  assert.ok(normal.includes('A NORMAL living room with a couch and a television.'), 'upper case matches');
  assert.ok(normal.includes('A normal, quiet train platform in the morning.'), 'punctuation delimits words');
  assert.ok(anomalous.includes('A boat with DAMAGE to the hull at the dock.'));
  assert.ok(!anomalous.some((t) => /damaged|damaging|damages/i.test(t)), 'inflections need the option');
  assert.ok(!normal.some((t) => /abnormal|subnormal|normally/i.test(t)), 'a word inside a longer word does not count');
  assert.ok(normal.every((t) => /normal/i.test(t)) && anomalous.every((t) => /damage/i.test(t)));
  // Whitespace is collapsed, and the first occurrence keeps its ids.
  const street = s.sentences.find((c) => c.text === 'The street looks normal on a sunny afternoon.')!;
  assert.deepEqual([street.imageId, street.id], [1000, 5001]);
});

test('inflections: "damaged", "damages", "damaging" count (e dropped before -ing); "normally" and "abnormal" still do not', () => {
  const s = loadCaptions(COCO, { inflections: true });
  assert.deepEqual(s.counts, { read: 38, normal: 10, anomalous: 14, both: 3, duplicates: 1 });
  assert.deepEqual(s.match.suffixes, ['s', 'es', 'd', 'ed', 'ing']);
  const m = resolveCaptionMatch({ inflections: true });
  for (const t of ['a damaged car', 'Damages everywhere', 'a storm damaging it', 'damage.']) assert.equal(captionLabel(t, m), 1, t);
  for (const t of ['normally fine', 'abnormal', 'damagedx']) assert.equal(captionLabel(t, m), undefined, t);
});

test('case-sensitive matching and other words', () => {
  const s = loadCaptions(COCO, { caseSensitive: true });
  assert.deepEqual([s.counts.normal, s.counts.anomalous], [8, 9], '"NORMAL", "Normal" and "DAMAGE" no longer match');
  const w = loadCaptions(COCO, { normalWords: ['quiet', 'sunny'], anomalyWords: ['storm', 'fire'] });
  assert.deepEqual(w.sentences.map((c) => [c.label, c.text.split(' ').slice(0, 3).join(' ')]), [
    [0, 'The street looks'],
    [0, 'A normal, quiet'],
    [1, 'Storm damage on'],
    [1, 'Damage from the'],
    [1, 'A storm damaging'],
  ]);
  assert.throws(() => resolveCaptionMatch({ normalWords: ['x'], anomalyWords: ['X'] }), /both a normal and an anomaly word/);
  assert.throws(() => resolveCaptionMatch({ normalWords: [] }), /normal words must list at least one word/);
});

test('plain text, one sentence per line: line numbers, blank lines ignored', () => {
  const p = join(TMP, 'lines.txt');
  writeFileSync(p, 'a normal day\r\n\nsome damage here\nnothing\nnormal damage\n');
  const s = loadCaptions(p);
  assert.equal(s.format, 'lines');
  assert.deepEqual(s.sentences, [
    { text: 'a normal day', label: 0, line: 1 },
    { text: 'some damage here', label: 1, line: 3 },
  ]);
  assert.deepEqual(s.counts, { read: 4, normal: 1, anomalous: 1, both: 1, duplicates: 0 });
});

test('missing, malformed or matchless files are RwdaErrors naming the file', () => {
  const isErr = (re: RegExp) => (e: unknown) => e instanceof RwdaError && re.test(e.message);
  const missing = join(TMP, 'nope.json');
  assert.throws(() => loadCaptions(missing), isErr(new RegExp(`captions file ${missing}: not found`)));
  assert.throws(() => loadCaptions(TMP), isErr(/is a directory/));
  const cases: Array<[string, string, RegExp]> = [
    ['broken.json', '{"annotations": [', /broken\.json: not valid JSON/],
    ['noann.json', '{"images": []}', /noann\.json: "annotations" must be an array/],
    ['badcap.json', '{"annotations": [{"image_id": 1, "id": 2, "caption": 3}]}', /badcap\.json: annotations\[0\]\.caption must be a string/],
    ['badid.json', '{"annotations": [{"image_id": "x", "id": 2, "caption": "a"}]}', /badid\.json: annotations\[0\]\.image_id must be a number/],
    ['none.txt', 'a cat\nnormal damage\n', /none\.txt: none of its 2 sentences .*\(1 hold both kinds/],
  ];
  for (const [name, body, re] of cases) {
    const p = join(TMP, name);
    writeFileSync(p, body);
    assert.throws(() => loadCaptions(p), isErr(re), name);
  }
});
