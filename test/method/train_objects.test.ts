// trainDetector with known object names (trainObjects): the prompts it embeds, what detector.json
// records, and the default-detector cache key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-train-objects-'));
process.env.RWDA_HOME = join(TMP, 'home');
after(() => rmSync(TMP, { recursive: true, force: true }));

import { RwdaError } from '../../src/errors.ts';
import { Detector } from '../../src/methods/rwda/detector.ts';
import { augmentedPairs } from '../../src/methods/rwda/prompts.ts';
import { defaultDetectorDir, resolveTrainSettings, trainDetector, trainSettingsHash } from '../../src/methods/rwda/train_detector.ts';
import { stubBackbone } from './detector_stub.ts';

const SMALL = { pairs: 40, hidden: [12, 6], epochs: 1, batchSize: 16 } as const;

/** A stub backbone that also records every text it encodes. */
function recordingBackbone(fingerprint: string): ReturnType<typeof stubBackbone> & { texts: string[] } {
  const b = stubBackbone(fingerprint);
  const encode = b.encodeText.bind(b);
  const texts: string[] = [];
  return Object.assign(b, {
    texts,
    encodeText: async (t: string[]) => {
      texts.push(...t);
      return encode(t);
    },
  });
}

test('trainObjects: the FNN is trained on pairs cycling the names; detector.json records them and they survive a save/load', async () => {
  const b = recordingBackbone('fp-obj');
  const d = await trainDetector(b, { ...SMALL, seed: 4, trainObjects: ['bottle', 'metal  nut', 'screw'] });
  const expected = augmentedPairs({ n: 40, seed: 4, objects: ['bottle', 'metal nut', 'screw'] }).flatMap((p) => [p.normal, p.anomaly]);
  assert.deepEqual([...new Set(b.texts)].sort(), [...new Set(expected)].sort());
  assert.ok(b.texts.some((t) => t.includes(' a damaged metal nut ')));
  assert.ok(!b.texts.some((t) => / object( |$)/u.test(t)), 'no training prompt says "object"');
  assert.deepEqual(d.meta.prompts.objects, ['bottle', 'metal nut', 'screw']);
  const dir = join(TMP, 'det-obj');
  d.save(dir);
  const json = JSON.parse(readFileSync(join(dir, 'detector.json'), 'utf8'));
  assert.deepEqual(json.prompts.objects, ['bottle', 'metal nut', 'screw']);
  const loaded = await Detector.load(dir, b);
  assert.deepEqual(loaded.meta.prompts.objects, ['bottle', 'metal nut', 'screw']);

  // Without trainObjects, nothing about objects is recorded.
  const plain = await trainDetector(stubBackbone('fp-obj'), { ...SMALL, seed: 4 });
  assert.equal('objects' in plain.meta.prompts, false);
  // Different training prompts, different FNN.
  assert.notDeepEqual(plain.fnn.toState(), d.fnn.toState());

  // A broken record is refused, naming the field.
  json.prompts.objects = ['bottle', ''];
  writeFileSync(join(dir, 'detector.json'), JSON.stringify(json));
  await assert.rejects(Detector.load(dir, b), (e: unknown) => e instanceof RwdaError && /prompts\.objects must be a non-empty array/.test(e.message));
});

test('trainObjects: part of the default-detector settings hash; without it the hash is what it always was', () => {
  const home = join(TMP, 'h');
  // Stored values (computed before trainObjects existed): old default-detector caches stay valid.
  assert.equal(trainSettingsHash(resolveTrainSettings({})), '08e1b39d19416597');
  assert.equal(trainSettingsHash(resolveTrainSettings({ ...SMALL, seed: 3 })), '9f79555773a54707');
  const base = defaultDetectorDir('fp', { ...SMALL }, home);
  const a = defaultDetectorDir('fp', { ...SMALL, trainObjects: ['bottle', 'screw'] }, home);
  const b = defaultDetectorDir('fp', { ...SMALL, trainObjects: ['screw', 'bottle'] }, home);
  const c = defaultDetectorDir('fp', { ...SMALL, trainObjects: ['bottle'] }, home);
  assert.equal(new Set([base, a, b, c]).size, 4);
  // Names are normalised before hashing.
  assert.equal(defaultDetectorDir('fp', { ...SMALL, trainObjects: [' bottle ', 'screw'] }, home), a);
  assert.deepEqual(resolveTrainSettings({ trainObjects: ['metal nut'] }).prompts.objects, ['metal nut']);
});

test('trainObjects: bad names are RwdaErrors naming the option, before any encoding', async () => {
  const b = stubBackbone('fp-bad');
  for (const [objects, re] of [
    [[], /trainObjects must be a non-empty array/],
    [['bottle', ''], /trainObjects\[1\] must be a non-empty object name/],
    [['bottle', 'bottle'], /trainObjects\[1\] repeats "bottle"/],
  ] as const) {
    await assert.rejects(trainDetector(b, { ...SMALL, trainObjects: objects }), (e: unknown) => e instanceof RwdaError && re.test(e.message));
  }
  assert.equal(b.textCalls, 0);
});
