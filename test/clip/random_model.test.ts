import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENCLIP_FIXTURES, REPO_ROOT } from '../helpers/paths.ts';
import { loadModelDirConfig } from '../../src/clip/config.ts';
import { expectedClipKeys, openClipWeights } from '../../src/clip/checkpoint.ts';
import { convertBpeGzToHf, writeRandomModel } from '../../src/clip/random_model.ts';
import { RwdaError } from '../../src/errors.ts';

const GZ = join(OPENCLIP_FIXTURES, 'bpe_simple_vocab_16e6.txt.gz');
const HF = join(OPENCLIP_FIXTURES, 'hf-tokenizer');
const TINY_CFG = JSON.parse(readFileSync(join(OPENCLIP_FIXTURES, 'tiny-gelu', 'open_clip_config.json'), 'utf8')) as { model_cfg: unknown };

function withTmp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'rwda-rand-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Expected (mean, std) per key, written out from the fixture README's recipe. */
function recipe(key: string, shape: number[]): [number, number] {
  if (key === 'logit_scale') return [Math.log(1 / 0.07), 0];
  if (/ln_(1|2|pre|post|final)\.weight$/.test(key)) return [1, 0.1];
  if (key.endsWith('bias')) return [0, 0.1];
  if (key.endsWith('positional_embedding')) return [0, 0.5];
  if (key === 'token_embedding.weight' || key === 'visual.class_embedding') return [0, 1];
  if (key.endsWith('in_proj_weight')) return [0, 1.5 / Math.sqrt(shape[1]!)];
  if (key === 'visual.proj' || key === 'text_projection') return [0, 1 / Math.sqrt(shape[0]!)];
  if (key === 'visual.conv1.weight') return [0, 1 / Math.sqrt(3 * shape[2]! * shape[3]!)];
  if (/(out_proj|c_fc|c_proj)\.weight$/.test(key)) return [0, 1 / Math.sqrt(shape[1]!)];
  throw new Error(`no recipe for ${key}`);
}

test('a random tiny model validates, has the recipe scales, and round-trips its config', () => {
  withTmp((dir) => {
    const archPath = join(dir, 'tiny.json');
    writeFileSync(archPath, JSON.stringify(TINY_CFG.model_cfg));
    const out = join(dir, 'model');
    const r = writeRandomModel({ arch: archPath, seed: 5, vocab: GZ, out, quiet: true });
    assert.equal(r.parameters, 2549169);
    assert.deepEqual(readdirSync(out).sort(), ['merges.txt', 'open_clip_config.json', 'open_clip_model.safetensors', 'vocab.json']);
    assert.deepEqual(readdirSync(dir).sort(), ['model', 'tiny.json']); // no temp dir left behind
    const cfg = loadModelDirConfig(out);
    assert.deepEqual(cfg, loadModelDirConfig(join(OPENCLIP_FIXTURES, 'tiny-gelu')));
    const w = openClipWeights(join(out, 'open_clip_model.safetensors'), cfg);
    try {
      assert.deepEqual(w.extraKeys, []);
      assert.deepEqual(w.warnings, []);
      assert.equal(w.file.metadata.seed, '5');
      let checked = 0;
      for (const [key, shape] of expectedClipKeys(cfg)) {
        const d = w.get(key);
        const [mean, std] = recipe(key, shape);
        if (std === 0) {
          assert.deepEqual([...d], [Math.fround(mean)], key);
          continue;
        }
        let s = 0;
        let s2 = 0;
        for (const x of d) {
          s += x;
          s2 += x * x;
        }
        const m = s / d.length;
        const sd = Math.sqrt(s2 / d.length - m * m);
        // Sampling error of the std is about std/sqrt(2n): 10% for large tensors, 5 standard errors for small ones.
        const tol = Math.max(0.1, 5 / Math.sqrt(2 * d.length));
        assert.ok(Math.abs(sd / std - 1) < tol, `${key}: std ${sd} vs ${std}`);
        assert.ok(Math.abs(m - mean) < 5 * std / Math.sqrt(d.length) + 1e-9, `${key}: mean ${m} vs ${mean}`);
        if (d.length >= 4096) {
          assert.ok(Math.abs(sd / std - 1) < 0.05, `${key}: std ${sd} vs ${std}`);
          checked++;
        }
      }
      assert.ok(checked >= 10);
    } finally {
      w.close();
    }
  });
});

test('random weights are a function of (arch, seed) only', () => {
  withTmp((dir) => {
    const archPath = join(dir, 'tiny.json');
    writeFileSync(archPath, JSON.stringify(TINY_CFG));
    const gen = (seed: number, name: string) => {
      writeRandomModel({ arch: archPath, seed, vocab: HF, out: join(dir, name), quiet: true });
      return readFileSync(join(dir, name, 'open_clip_model.safetensors'));
    };
    const a = gen(11, 'a');
    const b = gen(11, 'b');
    const c = gen(12, 'c');
    assert.ok(a.equals(b));
    assert.equal(a.length, c.length);
    assert.ok(!a.equals(c));
  });
});

test('the .txt.gz vocabulary converts byte-identically to the hub vocab.json and merges.txt', () => {
  const { vocabJson, mergesTxt } = convertBpeGzToHf(GZ);
  assert.ok(Buffer.from(vocabJson, 'utf8').equals(readFileSync(join(HF, 'vocab.json'))));
  assert.ok(Buffer.from(mergesTxt, 'utf8').equals(readFileSync(join(HF, 'merges.txt'))));
  const vocab = JSON.parse(vocabJson) as Record<string, number>;
  assert.equal(Object.keys(vocab).length, 49408);
  assert.equal(vocab['<|startoftext|>'], 49406);
  assert.equal(vocab['<|endoftext|>'], 49407);
});

test('bad inputs: existing output, bad seed, unknown arch, unsupported arch, bad vocabulary', () => {
  withTmp((dir) => {
    const ok = { arch: 'ViT-B-32', seed: 1, vocab: HF, quiet: true };
    mkdirSync(join(dir, 'exists'));
    assert.throws(() => writeRandomModel({ ...ok, out: join(dir, 'exists') }), /--out .*exists: already exists/);
    assert.throws(() => writeRandomModel({ ...ok, seed: -1, out: join(dir, 'x') }), /--seed must be an integer/);
    assert.throws(() => writeRandomModel({ ...ok, arch: 'ViT-Q-99', out: join(dir, 'x') }), /--arch 'ViT-Q-99' is neither a known architecture \(ViT-B-16, .*\) nor an existing config file/);
    const rn = join(dir, 'rn.json');
    writeFileSync(rn, JSON.stringify({ embed_dim: 1024, vision_cfg: { image_size: 224, layers: [3, 4, 6, 3], width: 64 }, text_cfg: { width: 512, heads: 8, layers: 12 } }));
    assert.throws(() => writeRandomModel({ ...ok, arch: rn, out: join(dir, 'x') }), /rn\.json: model_cfg\.vision_cfg\.layers: .*ResNet/);
    const tiny = join(dir, 'tiny.json');
    writeFileSync(tiny, JSON.stringify(TINY_CFG));
    assert.throws(() => writeRandomModel({ ...ok, arch: tiny, vocab: join(dir, 'nope.txt.gz'), out: join(dir, 'x') }), /--vocab .*nope\.txt\.gz: no such file or folder/);
    assert.throws(() => writeRandomModel({ ...ok, arch: tiny, vocab: dir, out: join(dir, 'x') }), /folder has no vocab\.json/);
    assert.throws(() => writeRandomModel({ ...ok, arch: tiny, vocab: tiny, out: join(dir, 'x') }), /expected a BPE \.txt\.gz file or a folder/);
    const notGz = join(dir, 'bad.txt.gz');
    writeFileSync(notGz, 'plain text');
    assert.throws(() => writeRandomModel({ ...ok, arch: tiny, vocab: notGz, out: join(dir, 'x') }), (e: unknown) => e instanceof RwdaError && /bad\.txt\.gz: cannot read gzip BPE vocabulary/.test(e.message));
    assert.equal(existsSync(join(dir, 'x')), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), []);
  });
});

test('CLI: rwda model random prints one JSON line; errors exit 1 with a message', () => {
  withTmp((dir) => {
    const arch = join(dir, 'tiny.json');
    writeFileSync(arch, JSON.stringify(TINY_CFG));
    const out = join(dir, 'm');
    const run = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'rwda.js'), 'model', 'random', ...args], { encoding: 'utf8' });
    const r = run(['--arch', arch, '--seed', '3', '--vocab', GZ, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]!) as { out: string; parameters: number; seed: number };
    assert.deepEqual([j.out, j.parameters, j.seed], [out, 2549169, 3]);
    assert.ok(existsSync(join(out, 'open_clip_model.safetensors')));
    const bad = run(['--arch', arch, '--seed', 'x1', '--vocab', GZ, '--out', join(dir, 'm2')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^rwda: --seed must be an integer/);
  });
});

test('modelCommand creates the model group once and reuses it', async () => {
  const { Command } = await import('commander');
  const { modelCommand } = await import('../../src/cli/commands/model_group.ts');
  const { register } = await import('../../src/cli/commands/model_random.ts');
  const program = new Command();
  const g = modelCommand(program);
  register(program);
  assert.equal(modelCommand(program), g);
  assert.deepEqual(program.commands.map((c) => c.name()), ['model']);
  assert.deepEqual(g.commands.map((c) => c.name()), ['random']);
});
