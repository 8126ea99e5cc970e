import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { OPENCLIP_FIXTURES } from '../helpers/paths.ts';
import { RwdaError } from '../../src/errors.ts';
import { ClipTokenizer, loadBpeGz, loadHfFiles } from '../../src/clip/tokenizer/index.ts';

const GZ = join(OPENCLIP_FIXTURES, 'bpe_simple_vocab_16e6.txt.gz');
const HF_VOCAB = join(OPENCLIP_FIXTURES, 'hf-tokenizer', 'vocab.json');
const HF_MERGES = join(OPENCLIP_FIXTURES, 'hf-tokenizer', 'merges.txt');

interface Case {
  text: string;
  ids: number[];
  tags: string[];
}
const cases: Case[] = JSON.parse(readFileSync(join(OPENCLIP_FIXTURES, 'tokenizer_cases.json'), 'utf8'));

const fromGz = ClipTokenizer.fromBpeGz(GZ);
const fromHf = ClipTokenizer.fromHfFiles(HF_VOCAB, HF_MERGES);

const tmp = mkdtempSync(join(tmpdir(), 'rwda-tokenizer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function mismatches(tok: ClipTokenizer): string[] {
  const batch = tok.tokenize(cases.map((c) => c.text));
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const got = Array.from(batch.ids.subarray(i * 77, (i + 1) * 77));
    if (got.join(',') !== c.ids.join(',')) {
      bad.push(`${JSON.stringify(c.text)} [${c.tags.join(' ')}]\n  got ${got.join(',')}\n  exp ${c.ids.join(',')}`);
    }
  });
  return bad;
}

test('every tokenizer_cases.json golden gives identical 77 ids (bpe_simple_vocab_16e6.txt.gz)', () => {
  assert.equal(cases.length, 342);
  assert.deepEqual(mismatches(fromGz), []);
});

test('every golden gives identical ids from the Hugging Face vocab.json + merges.txt', () => {
  assert.deepEqual(mismatches(fromHf), []);
});

test('both vocabulary layouts load the same merges and token ids', () => {
  const gz = loadBpeGz(GZ);
  const hf = loadHfFiles(HF_VOCAB, HF_MERGES);
  assert.equal(gz.merges.length, 48894);
  assert.deepEqual(hf.merges, gz.merges);
  assert.equal(gz.encoder.size, 49408);
  assert.equal(hf.encoder.size, 49408);
  assert.equal(gz.sotId, 49406);
  assert.equal(gz.eotId, 49407);
  assert.equal(hf.sotId, 49406);
  assert.equal(hf.eotId, 49407);
  const differing = [...gz.encoder].filter(([token, id]) => id < 49406 && hf.encoder.get(token) !== id);
  assert.deepEqual(differing, []);
  assert.equal(fromGz.vocabSize, 49408);
  assert.equal(fromHf.vocabSize, 49408);
});

test('the model goldens (tiny-gelu, tiny-quickgelu) give the same text ids and pooling indices', () => {
  for (const model of ['tiny-gelu', 'tiny-quickgelu']) {
    const g = JSON.parse(readFileSync(join(OPENCLIP_FIXTURES, model, 'goldens.json'), 'utf8')) as {
      text: { prompts: string[]; ids: number[][]; eot_index: number[] };
    };
    const b = fromGz.tokenize(g.text.prompts);
    assert.deepEqual(Array.from(b.ids), g.text.ids.flat(), model);
    assert.deepEqual(Array.from(b.eotIndex), g.text.eot_index, model);
  }
});

test('tokenize returns a flat batch and the pooling index argmax(ids) per row', () => {
  const texts = ['', 'a photo of a bottle', 'a photo <end_of_text> of a bottle', 'word '.repeat(100)];
  const b = fromGz.tokenize(texts);
  assert.equal(b.count, 4);
  assert.equal(b.contextLength, 77);
  assert.equal(b.ids.length, 4 * 77);
  for (let i = 0; i < texts.length; i++) {
    const row = b.ids.subarray(i * 77, (i + 1) * 77);
    assert.deepEqual(Array.from(row), Array.from(fromGz.tokenizeOne(texts[i]!)));
    assert.equal(row[b.eotIndex[i]!], 49407);
    assert.equal(row.indexOf(49407), b.eotIndex[i]);
  }
  assert.deepEqual(Array.from(b.eotIndex), [1, 6, 3, 76]);
  assert.equal(fromGz.tokenize([]).ids.length, 0);
});

test('encode gives the content ids only, and truncation keeps 75 of them with EOT at the end', () => {
  const long = cases.find((c) => c.tags.includes('content_tokens=100'))!;
  const ids = fromGz.encode(long.text);
  assert.equal(ids.length, 100);
  assert.deepEqual(long.ids, [49406, ...ids.slice(0, 75), 49407]);
  const short = fromGz.tokenizeOne(long.text, 10);
  assert.deepEqual(Array.from(short), [49406, ...ids.slice(0, 8), 49407]);
  assert.deepEqual(Array.from(fromGz.tokenizeOne('a photo', 1)), [49407]);
});

test('decode follows open_clip (ids → bytes → UTF-8 with replacement, </w> → space)', () => {
  // Expected strings from open_clip's SimpleTokenizer.decode run on CPython 3.11.
  const expected: [number[], string][] = [
    [[49406, 320, 1125, 539, 320, 5392, 49407], '<start_of_text>a photo of a bottle <end_of_text>'],
    [[49406, 15304, 49407], '<start_of_text>caf\u00e9 <end_of_text>'],
    [[49406, 22979, 49407], '<start_of_text>\ud83d\udc31 <end_of_text>'],
    [[49406, 343, 49407, 344, 49407], '<start_of_text>x <end_of_text>y <end_of_text>'],
    [[49406, 328, 16384, 11231, 49407], '<start_of_text>i \u0307 stanbul <end_of_text>'],
    [[49406, 585, 568, 49407], "<start_of_text>it 's <end_of_text>"],
    [[163, 234], '\ufffd'],
    [[49406, 320, 1125, 539, 320, 5392, 49407, 0, 0], '<start_of_text>a photo of a bottle <end_of_text>!!'],
  ];
  for (const [ids, text] of expected) {
    assert.equal(fromGz.decode(ids), text);
    assert.equal(fromHf.decode(Int32Array.from(ids)), text);
  }
});

test('bad ids and context lengths are RwdaErrors', () => {
  assert.throws(() => fromGz.decode([49408]), (e: unknown) => e instanceof RwdaError && /49408/.test(e.message));
  assert.throws(() => fromGz.decode([-1]), RwdaError);
  assert.throws(() => fromGz.decode([1.5]), RwdaError);
  assert.throws(() => fromGz.tokenize(['x'], 0), (e: unknown) => e instanceof RwdaError && /context length/.test(e.message));
  assert.throws(() => fromGz.tokenizeOne('x', 2.5), RwdaError);
});

function throwsNaming(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RwdaError, `expected RwdaError, got ${String(e)}`);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `"${e.message}" should name ${p}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

test('missing or corrupt .gz vocabulary → RwdaError naming the file', () => {
  const missing = join(tmp, 'nope.txt.gz');
  throwsNaming(() => ClipTokenizer.fromBpeGz(missing), missing, /not found/);
  const notGz = join(tmp, 'plain.txt.gz');
  writeFileSync(notGz, 'hello');
  throwsNaming(() => ClipTokenizer.fromBpeGz(notGz), notGz, /gzip/);
  const short = join(tmp, 'short.txt.gz');
  writeFileSync(short, gzipSync('#version: 0.2\ni n\nt h\n'));
  throwsNaming(() => ClipTokenizer.fromBpeGz(short), short, /merge lines/);
  const lines = readFileSync(HF_MERGES, 'utf8').split('\n');
  lines[5] = 'broken';
  const badLine = join(tmp, 'badline.txt.gz');
  writeFileSync(badLine, gzipSync(lines.join('\n')));
  throwsNaming(() => ClipTokenizer.fromBpeGz(badLine), badLine, /line 6/);
  const badUtf8 = join(tmp, 'badutf8.txt.gz');
  writeFileSync(badUtf8, gzipSync(Buffer.from([0x23, 0xff, 0xfe, 0x0a])));
  throwsNaming(() => ClipTokenizer.fromBpeGz(badUtf8), badUtf8, /UTF-8/);
});

test('missing or corrupt vocab.json / merges.txt → RwdaError naming the file', () => {
  const vocab = JSON.parse(readFileSync(HF_VOCAB, 'utf8')) as Record<string, number>;
  const write = (name: string, content: string): string => {
    const p = join(tmp, name);
    writeFileSync(p, content);
    return p;
  };
  throwsNaming(() => ClipTokenizer.fromHfFiles(join(tmp, 'absent.json'), HF_MERGES), 'absent.json');
  throwsNaming(() => ClipTokenizer.fromHfFiles(HF_VOCAB, join(tmp, 'absent.txt')), 'absent.txt');
  const badJson = write('bad.json', '{"a": 1,');
  throwsNaming(() => ClipTokenizer.fromHfFiles(badJson, HF_MERGES), badJson, /invalid JSON/);
  const arr = write('arr.json', '[1, 2]');
  throwsNaming(() => ClipTokenizer.fromHfFiles(arr, HF_MERGES), arr, /object/);
  const badId = write('badid.json', JSON.stringify({ ...vocab, zzz: 'x' }));
  throwsNaming(() => ClipTokenizer.fromHfFiles(badId, HF_MERGES), badId, '"zzz"');
  const noEot = { ...vocab };
  delete noEot['<|endoftext|>'];
  const noEotPath = write('noeot.json', JSON.stringify(noEot));
  throwsNaming(() => ClipTokenizer.fromHfFiles(noEotPath, HF_MERGES), noEotPath, '<|endoftext|>');
  const noMerge = { ...vocab };
  delete noMerge['the</w>'];
  const noMergePath = write('nomerge.json', JSON.stringify(noMerge));
  throwsNaming(() => ClipTokenizer.fromHfFiles(noMergePath, HF_MERGES), noMergePath, '"the</w>"', 'line 8');
  const noByte = { ...vocab };
  delete noByte['a</w>'];
  const noBytePath = write('nobyte.json', JSON.stringify(noByte));
  throwsNaming(() => ClipTokenizer.fromHfFiles(noBytePath, HF_MERGES), noBytePath, '"a</w>"');
  const badMerges = write('bad_merges.txt', '#version: 0.2\ni n\nthree parts here\n');
  throwsNaming(() => ClipTokenizer.fromHfFiles(HF_VOCAB, badMerges), badMerges, /line 3/);
  const emptyMerges = write('empty_merges.txt', '#version: 0.2\n');
  throwsNaming(() => ClipTokenizer.fromHfFiles(HF_VOCAB, emptyMerges), emptyMerges, /no merges/);
});

test('fromModelDir finds the HF pair or the .gz, and names what is missing', () => {
  const hfDir = join(tmp, 'hf');
  mkdirSync(hfDir);
  copyFileSync(HF_VOCAB, join(hfDir, 'vocab.json'));
  copyFileSync(HF_MERGES, join(hfDir, 'merges.txt'));
  const gzDir = join(tmp, 'gz');
  mkdirSync(gzDir);
  copyFileSync(GZ, join(gzDir, 'bpe_simple_vocab_16e6.txt.gz'));
  const text = 'a photo of a damaged bottle';
  const want = Array.from(fromGz.tokenizeOne(text));
  assert.deepEqual(Array.from(ClipTokenizer.fromModelDir(hfDir).tokenizeOne(text)), want);
  assert.deepEqual(Array.from(ClipTokenizer.fromModelDir(gzDir).tokenizeOne(text)), want);
  assert.match(ClipTokenizer.fromModelDir(hfDir).source, /vocab\.json/);

  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  throwsNaming(() => ClipTokenizer.fromModelDir(empty), empty, 'vocab.json', 'merges.txt', 'bpe_simple_vocab_16e6.txt.gz');
  const half = join(tmp, 'half');
  mkdirSync(half);
  copyFileSync(HF_VOCAB, join(half, 'vocab.json'));
  throwsNaming(() => ClipTokenizer.fromModelDir(half), half, /merges\.txt is not/);
  throwsNaming(() => ClipTokenizer.fromModelDir(join(tmp, 'no-such-dir')), 'no-such-dir');
  // The model fixtures ship no vocabulary: a clear error, not a crash.
  throwsNaming(() => ClipTokenizer.fromModelDir(join(OPENCLIP_FIXTURES, 'tiny-gelu')), 'tiny-gelu');
});
