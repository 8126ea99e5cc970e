// The detector directory: what detector.json records, byte-reproducible fnn.safetensors, atomic
// replacement, checked loading (format, checksum, backbone fingerprint) and the default-detector cache.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TMP = mkdtempSync(join(tmpdir(), 'rwda-artifact-'));
process.env.RWDA_HOME = join(TMP, 'home');
after(() => rmSync(TMP, { recursive: true, force: true }));

import { RwdaError } from '../../src/errors.ts';
import { FNN_DEFAULTS } from '../../src/methods/rwda/defaults.ts';
import { Detector } from '../../src/methods/rwda/detector.ts';
import { DETECTOR_FORMAT_VERSION } from '../../src/methods/rwda/detector_artifact.ts';
import { defaultDetectorDir, loadOrTrainDefaultDetector, resolveTrainSettings, trainDetector, trainSettingsHash } from '../../src/methods/rwda/train_detector.ts';
import { REPO_ROOT } from '../helpers/paths.ts';
import { stubBackbone, stubText } from './detector_stub.ts';

const backbone = stubBackbone('fp-A');
const SMALL = { pairs: 40, hidden: [12, 6], epochs: 1, batchSize: 16 } as const;
const probe = [stubText('x'), stubText('y'), stubText('z')];

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RwdaError, `expected RwdaError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

test('save: detector.json records everything; same seed → byte-identical fnn.safetensors; load gives the same scores', async () => {
  const d = await trainDetector(backbone, { ...SMALL, seed: 7, words: { normal: 'a flawless', anomaly: 'a broken' }, dropout: 0.25, lr: 2e-3, weightDecay: 0.05 });
  assert.equal(d.meta.fnnSha256, '');
  const dir = join(TMP, 'det-a');
  assert.equal(d.save(dir), dir);
  assert.deepEqual(readdirSync(dir).sort(), ['detector.json', 'fnn.safetensors']);
  const meta = JSON.parse(readFileSync(join(dir, 'detector.json'), 'utf8'));
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.equal(meta.format, 'rwda-detector');
  assert.equal(meta.formatVersion, DETECTOR_FORMAT_VERSION);
  assert.equal(meta.rwdaVersion, pkg.version);
  assert.ok(!Number.isNaN(Date.parse(meta.createdAt)));
  assert.deepEqual(meta.backbone, { name: 'stub', fingerprint: 'fp-A', embedDim: 6 });
  assert.deepEqual(meta.prompts, {
    normalWord: 'a flawless',
    anomalyWord: 'a broken',
    object: 'object',
    pairs: 40,
    seed: 7,
    independentWords: false,
    alphabet: 'abcdefghijklmnopqrstuvwxyz0123456789',
    minWordLength: 5,
    maxWordLength: 10,
  });
  assert.deepEqual(Object.keys(meta.fnn).sort(), [...Object.keys(FNN_DEFAULTS)].sort());
  assert.deepEqual(meta.fnn, { ...FNN_DEFAULTS, hidden: [12, 6], epochs: 1, batchSize: 16, dropout: 0.25, lr: 2e-3, weightDecay: 0.05, seed: 7 });
  assert.equal(meta.training.steps, 5); // 40 pairs / 8 pairs per batch, one epoch
  assert.equal(meta.training.losses.length, 5);
  assert.equal(meta.training.finalLoss, meta.training.losses[4]);
  assert.equal(meta.fnnSha256, sha(join(dir, 'fnn.safetensors')));
  assert.deepEqual(d.meta, meta);

  const again = await trainDetector(backbone, { ...SMALL, seed: 7, words: { normal: 'a flawless', anomaly: 'a broken' }, dropout: 0.25, lr: 2e-3, weightDecay: 0.05 });
  again.save(join(TMP, 'det-a2'));
  assert.deepEqual(readFileSync(join(TMP, 'det-a2', 'fnn.safetensors')), readFileSync(join(dir, 'fnn.safetensors')));
  const other = await trainDetector(backbone, { ...SMALL, seed: 8 });
  other.save(join(TMP, 'det-b'));
  assert.notDeepEqual(readFileSync(join(TMP, 'det-b', 'fnn.safetensors')), readFileSync(join(dir, 'fnn.safetensors')));

  const loaded = await Detector.load(dir, backbone);
  assert.equal(loaded.path, dir);
  assert.deepEqual(loaded.fnn.toState(), d.fnn.toState());
  assert.deepEqual(await loaded.scoreEmbeddings(probe), await d.scoreEmbeddings(probe));
  // The state words travel with the detector: the CLIP prompts use them.
  assert.deepEqual(loaded.meta.prompts.normalWord, 'a flawless');
});

test('save replaces an existing detector atomically and refuses anything else', async () => {
  const dir = join(TMP, 'det-replace');
  const a = await trainDetector(backbone, { ...SMALL, seed: 1 });
  const b = await trainDetector(backbone, { ...SMALL, seed: 2 });
  a.save(dir);
  b.save(dir);
  assert.equal(JSON.parse(readFileSync(join(dir, 'detector.json'), 'utf8')).prompts.seed, 2);
  assert.deepEqual(await (await Detector.load(dir, backbone)).scoreEmbeddings(probe), await b.scoreEmbeddings(probe));
  // Nothing left behind next to the target.
  assert.deepEqual(readdirSync(TMP).filter((n) => n.startsWith('.')), []);

  const precious = join(TMP, 'precious');
  mkdirSync(precious);
  writeFileSync(join(precious, 'thesis.tex'), 'x');
  assert.throws(() => a.save(precious), (e: unknown) => e instanceof RwdaError && /not empty and holds no detector\.json/.test(e.message));
  assert.deepEqual(readdirSync(precious), ['thesis.tex']);
  const file = join(TMP, 'a-file');
  writeFileSync(file, 'x');
  assert.throws(() => a.save(file), /is not a directory/);
  // An empty folder is fine.
  const empty = join(TMP, 'empty');
  mkdirSync(empty);
  a.save(empty);
  assert.ok(existsSync(join(empty, 'fnn.safetensors')));
  assert.deepEqual(readdirSync(TMP).filter((n) => n.startsWith('.')), []);
});

test('load refuses: missing folder, no detector.json, corrupt JSON, wrong format or version, bad fields, tampered or missing weights', async () => {
  const d = await trainDetector(backbone, { ...SMALL, seed: 3 });
  const good = join(TMP, 'det-good');
  d.save(good);
  const json = readFileSync(join(good, 'detector.json'), 'utf8');
  const variant = (name: string, edit: (dir: string) => void): string => {
    const dir = join(TMP, name);
    d.save(dir);
    edit(dir);
    return dir;
  };
  const withMeta = (name: string, f: (m: Record<string, any>) => void): string =>
    variant(name, (dir) => {
      const m = JSON.parse(json);
      f(m);
      writeFileSync(join(dir, 'detector.json'), JSON.stringify(m));
    });

  await rejectsWith(Detector.load(join(TMP, 'nope'), backbone), /^detector not found: .*nope/);
  mkdirSync(join(TMP, 'bare'));
  await rejectsWith(Detector.load(join(TMP, 'bare'), backbone), /bare is not a detector: no detector\.json/);
  await rejectsWith(Detector.load(variant('corrupt', (dir) => writeFileSync(join(dir, 'detector.json'), '{"format": "rwda-det')), backbone), /corrupt[/]detector\.json: not valid JSON/);
  await rejectsWith(Detector.load(withMeta('fmt', (m) => (m.format = 'something')), backbone), /fmt[/]detector\.json: format must be "rwda-detector"/);
  await rejectsWith(Detector.load(withMeta('newer', (m) => (m.formatVersion = 99)), backbone), /formatVersion is 99, newer than this rwda reads/);
  await rejectsWith(Detector.load(withMeta('nodim', (m) => delete m.backbone.embedDim), backbone), /backbone\.embedDim must be an integer/);
  await rejectsWith(Detector.load(withMeta('nolr', (m) => delete m.fnn.lr), backbone), /fnn\.lr is missing/);
  await rejectsWith(Detector.load(withMeta('baddrop', (m) => (m.fnn.dropout = 2)), backbone), /baddrop[/]detector\.json: fnn: .*dropout/);
  await rejectsWith(Detector.load(withMeta('widths', (m) => (m.fnn.hidden = [12, 7])), backbone), /hidden widths \[12,6\] differ from the configured \[12,7\]/);
  const tampered = variant('tampered', (dir) => {
    const p = join(dir, 'fnn.safetensors');
    const b = readFileSync(p);
    b[b.length - 1] ^= 1;
    writeFileSync(p, b);
  });
  await rejectsWith(Detector.load(tampered, backbone), /fnn\.safetensors does not match the sha256 recorded in detector\.json/);
  await rejectsWith(Detector.load(variant('noweights', (dir) => rmSync(join(dir, 'fnn.safetensors'))), backbone), /fnn\.safetensors is missing/);
  // The good one still loads.
  await Detector.load(good, backbone);
});

test('load refuses a detector trained for another backbone, naming both fingerprints and the folder', async () => {
  const dir = join(TMP, 'det-fp');
  (await trainDetector(backbone, { ...SMALL, seed: 4 })).save(dir);
  await rejectsWith(
    Detector.load(dir, stubBackbone('fp-B')),
    /^detector .*det-fp was trained for backbone stub \(fingerprint fp-A\), but the model \/stub\/model has fingerprint fp-B/,
  );
  const wide = { ...stubBackbone('fp-A'), config: { ...backbone.config, embedDim: 7 } };
  await rejectsWith(Detector.load(dir, wide), /embed_dim 6 does not match the model's 7/);
});

test('default detector: trained once per (fingerprint, settings) under <home>/detectors, then reused; a broken one is retrained', async () => {
  const home = join(TMP, 'default-home');
  const opts = { ...SMALL, seed: 5, home };
  const reasons: string[] = [];
  const first = await loadOrTrainDefaultDetector(backbone, { ...opts, onTrain: (_d, r) => reasons.push(r) });
  assert.equal(first.trained, true);
  assert.equal(first.dir, join(home, 'detectors', `fp-A-${trainSettingsHash(resolveTrainSettings(opts))}`));
  assert.equal(first.dir, defaultDetectorDir('fp-A', opts, home));
  assert.deepEqual(reasons, ['missing']);
  const second = await loadOrTrainDefaultDetector(backbone, { ...opts, onTrain: () => assert.fail('must not train again') });
  assert.equal(second.trained, false);
  assert.equal(second.detector.meta.createdAt, first.detector.meta.createdAt);
  assert.deepEqual(await second.detector.scoreEmbeddings(probe), await first.detector.scoreEmbeddings(probe));
  // Other settings or another backbone: another folder.
  assert.notEqual(defaultDetectorDir('fp-A', { ...opts, pairs: 41 }, home), first.dir);
  assert.notEqual(defaultDetectorDir('fp-B', opts, home), first.dir);
  // Explicit defaults hash like omitted ones.
  assert.equal(trainSettingsHash(resolveTrainSettings({})), trainSettingsHash(resolveTrainSettings({ pairs: 10_000, seed: 0, hidden: [512, 256, 128] })));
  writeFileSync(join(first.dir, 'detector.json'), 'garbage');
  const third = await loadOrTrainDefaultDetector(backbone, { ...opts, onTrain: (_d, r) => reasons.push(r) });
  assert.equal(third.trained, true);
  assert.match(reasons[1]!, /not valid JSON/);
  await Detector.load(first.dir, backbone);
});

test('trainDetector validates options before any encoding', async () => {
  const b = stubBackbone('fp-C');
  await rejectsWith(trainDetector(b, { pairs: 0 }), /pairs must be a positive integer/);
  await rejectsWith(trainDetector(b, { batchSize: 3 }), /batchSize must be an even integer/);
  await rejectsWith(trainDetector(b, { dropout: 1 }), /dropout must be in \[0, 1\)/);
  await rejectsWith(trainDetector(b, { hidden: [] }), /hidden must list at least one/);
  await rejectsWith(trainDetector(b, { seed: 2 ** 32 }), /seed must be an integer/);
  assert.equal(b.textCalls, 0);
});
