import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RwdaError } from '../../src/errors.ts';
import { DEFAULT_MODEL, findPretrained, getPretrained, listPretrained, parseRegistry } from '../../src/clip/hub/registry.ts';
import { resolveUrl } from '../../src/clip/hub/download.ts';
import { repoSlug } from '../../src/clip/hub/cache.ts';
import { REPO_ROOT } from '../helpers/paths.ts';

const FOUR = ['open_clip_config.json', 'open_clip_model.safetensors', 'vocab.json', 'merges.txt'];

test('the default model maps to the timm laion400m_e31 repository with the four open_clip files', () => {
  const e = getPretrained(DEFAULT_MODEL);
  assert.equal(e.name, 'ViT-B-16-plus-240:laion400m_e31');
  assert.equal(e.repo, 'timm/vit_base_patch16_plus_clip_240.laion400m_e31');
  assert.equal(e.revision, 'main');
  assert.deepEqual(e.files, FOUR);
  assert.equal(e.confirmed, true);
  assert.equal(e.preprocess?.imageSize, 240);
  assert.equal(e.preprocess?.resizeMode, 'shortest');
});

test('every entry: one default per arch, valid repo ids, the four files, evidence recorded', () => {
  const entries = listPretrained();
  const archs = new Set(entries.map((e) => e.arch));
  for (const a of archs) assert.equal(entries.filter((e) => e.arch === a && e.isDefault).length, 1, `${a} has one default`);
  for (const e of entries) {
    assert.match(e.repo, /^[\w.-]+\/[\w.-]+$/);
    assert.ok(e.evidence && e.evidence.length > 20, `${e.name} records how it was checked`);
    assert.deepEqual(e.files, FOUR);
  }
  for (const a of ['ViT-B-16', 'ViT-B-32', 'ViT-L-14']) assert.ok(archs.has(a), `${a} is in the table`);
  // quick_gelu in the table agrees with the arch name for the -quickgelu variants.
  for (const e of entries) assert.equal(e.quickGelu, e.arch.endsWith('-quickgelu'), e.name);
});

test("names: bare arch, open_clip's arch:tag with tag normalisation, hf-hub:org/name[@rev]", () => {
  assert.equal(findPretrained('ViT-B-16-plus-240:laion400m_e31')?.repo, 'timm/vit_base_patch16_plus_clip_240.laion400m_e31');
  assert.equal(findPretrained('ViT-B-16-plus-240:LAION400M-E31')?.name, 'ViT-B-16-plus-240:laion400m_e31');
  assert.equal(findPretrained('ViT-B-16')?.name, 'ViT-B-16:laion400m_e32');
  assert.equal(findPretrained('ViT-B-16:laion400m_e31')?.repo, 'timm/vit_base_patch16_clip_224.laion400m_e31');
  assert.equal(findPretrained('ViT-B-16:openai'), undefined);
  assert.equal(findPretrained('vit-b-16'), undefined, 'arch names are case-sensitive, like open_clip');
  const hf = findPretrained('hf-hub:acme/tiny-clip@v1.0')!;
  assert.deepEqual([hf.name, hf.repo, hf.revision, hf.files], ['hf-hub:acme/tiny-clip@v1.0', 'acme/tiny-clip', 'v1.0', FOUR]);
  assert.equal(findPretrained('hf-hub:acme/tiny-clip/')?.revision, 'main');
  assert.throws(() => findPretrained('hf-hub:../etc'), /invalid hub repository id/);
  assert.throws(() => findPretrained('hf-hub:acme/x@../../y'), /invalid revision/);
});

test('an unknown name lists the known ones', () => {
  assert.throws(() => getPretrained('RN50'), (err: Error) => {
    assert.ok(err instanceof RwdaError);
    assert.match(err.message, /unknown model 'RN50'/);
    assert.match(err.message, /ViT-L-14:laion400m_e31/);
    return true;
  });
});

test('the bundled JSON parses as the module sees it', () => {
  const text = readFileSync(join(REPO_ROOT, 'src/clip/hub/pretrained.json'), 'utf8');
  assert.deepEqual(parseRegistry(text), listPretrained());
});

test('bad table entries are RwdaErrors naming the entry and field', () => {
  const doc = (models: unknown[]) => JSON.stringify({ models });
  const ok = { arch: 'A', tag: 't', repo: 'org/a' };
  assert.throws(() => parseRegistry('{', 'p.json'), /p\.json: not valid JSON/);
  assert.throws(() => parseRegistry(doc([{ ...ok, repo: 'no-slash' }]), 'p.json'), /p\.json: models\[0\]: invalid hub repository id "no-slash"/);
  assert.throws(() => parseRegistry(doc([ok, { ...ok }]), 'p.json'), /models\[1\]: duplicate entry 'A:t'/);
  assert.throws(() => parseRegistry(doc([{ ...ok, files: ['../x'] }]), 'p.json'), /models\[0\]: invalid file name "\.\.\/x"/);
  assert.throws(() => parseRegistry(doc([{ ...ok, tag: '' }]), 'p.json'), /models\[0\]: 'tag' must be a non-empty string/);
  assert.throws(() => parseRegistry(doc([{ ...ok, preprocess: { image_size: 224, mean: [1, 2], std: [1, 1, 1], interpolation: 'bicubic', resize_mode: 'shortest' } }]), 'p.json'), /models\[0\]\.preprocess\.mean: must be an array of three numbers/);
  assert.throws(
    () => parseRegistry(doc([{ ...ok, default: true }, { ...ok, tag: 'u', default: true }]), 'p.json'),
    /models\[1\]: a second default for 'A'/,
  );
});

test('resolve URLs and cache folder names', () => {
  const url = resolveUrl({ endpoint: 'https://huggingface.co', repo: 'timm/x.y', revision: 'refs/pr/1', file: 'sub dir/a+b.json' });
  assert.equal(url.href, 'https://huggingface.co/timm/x.y/resolve/refs%2Fpr%2F1/sub%20dir/a%2Bb.json');
  assert.equal(repoSlug('timm/x.y', 'main'), 'timm--x.y');
  assert.equal(repoSlug('timm/x.y', 'refs/pr/1'), 'timm--x.y--refs_pr_1');
});
