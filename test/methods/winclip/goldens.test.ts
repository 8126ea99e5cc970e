// WinCLIP / WinCLIP+ through the library against anomalib's goldens (fixtures/winclip/winclip-tiny):
// the prompt ensemble (strings, order, token ids), its text embeddings on the tiny model, and the
// scoring stage fed the golden float32 embeddings — every case's window scores, scale maps, maps,
// grid map, pred_score, few-shot maps and the upsampled anomaly map, all within 1e-4 absolute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClipModel, ClipTokenizer } from '../../../src/index.ts';
import {
  buildReferenceMemory,
  ensembleEmbeddings,
  harmonicAggregation,
  promptEnsemble,
  scoreWinClip,
  upsampleBilinear,
  WINCLIP_PRESETS,
  resolveWinClipSettings,
  type WinClipInputs,
} from '../../../src/methods/winclip/index.ts';
import { RwdaError } from '../../../src/errors.ts';
import { FIXTURES, OPENCLIP_FIXTURES } from '../../helpers/paths.ts';

const DIR = join(FIXTURES, 'winclip', 'winclip-tiny');
const TOL = 1e-4;

interface Entry {
  file: string;
  shape: number[];
}
type Scaled = Record<string, Entry>;
const G = JSON.parse(readFileSync(join(DIR, 'goldens.json'), 'utf8')) as {
  defaults: { templates: string[]; normal_states: string[]; anomalous_states: string[]; temperature: number; scales: number[] };
  prompt_ensembles: Array<{ class_name: string; normal_prompts: string[]; anomalous_prompts: string[]; normal_ids: Entry; anomalous_ids: Entry; normal_features: Entry; anomalous_features: Entry; text_embeddings: Entry }>;
  images: { entries: Array<{ image_embedding: Entry; window_embeddings: Scaled; patch_embeddings: Entry }> };
  subsample_indices: number[];
  cases: Array<{
    name: string;
    class_name: string;
    k_shot: number;
    memory?: { patch_embeddings: Entry; window_embeddings: Scaled };
    results: Array<{
      query_index: number;
      pred_score: number;
      zero_shot: { image_score: number; window_scores: Scaled; scale_maps: Scaled; map: Entry };
      few_shot?: { patch_scores: Entry; window_scores: Scaled; scale_maps: Scaled; map: Entry; map_max: number };
      grid_map: Entry;
      anomaly_map?: Entry;
      anomaly_map_subsample?: Entry;
    }>;
  }>;
};

function f32(e: Entry): Float32Array {
  const b = readFileSync(join(DIR, e.file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function i32(e: Entry): Int32Array {
  const b = readFileSync(join(DIR, e.file));
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = TOL): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let m = 0;
  for (let i = 0; i < actual.length; i++) m = Math.max(m, Math.abs(actual[i]! - expected[i]!));
  assert.ok(m <= tol, `${what}: max |Δ| ${m} > ${tol}`);
}
function inputs(i: number): WinClipInputs {
  const e = G.images.entries[i]!;
  return { image: f32(e.image_embedding), patchTokens: f32(e.patch_embeddings), windows: { 2: f32(e.window_embeddings['2']!), 3: f32(e.window_embeddings['3']!) }, grid: 15 };
}
const ANOMALIB = WINCLIP_PRESETS.anomalib;

test('anomalib preset: states, templates (with the duplicate), temperature 0.07 and scales equal anomalib’s defaults', () => {
  assert.deepEqual([...ANOMALIB.templates], G.defaults.templates);
  assert.deepEqual([...ANOMALIB.normalStates], G.defaults.normal_states);
  assert.deepEqual([...ANOMALIB.anomalousStates], G.defaults.anomalous_states);
  assert.equal(ANOMALIB.temperature, G.defaults.temperature);
  assert.deepEqual([...ANOMALIB.scales], G.defaults.scales);
});

test('corrected preset: no duplicate template, one template changed; temperature settable', () => {
  const t = WINCLIP_PRESETS.corrected.templates;
  assert.equal(new Set(t).size, t.length);
  assert.equal(t.filter((x, i) => x !== ANOMALIB.templates[i]).length, 1);
  assert.equal(resolveWinClipSettings({ preset: 'corrected', temperature: 0.01 }).temperature, 0.01);
  assert.throws(() => resolveWinClipSettings({ preset: 'nope' }), RwdaError);
  assert.throws(() => resolveWinClipSettings({ tau: 1 }), /unknown winclip setting 'tau'/);
});

test('prompt ensemble: strings and order exact for every class (147 normal, 84 anomalous, state-major)', () => {
  for (const pe of G.prompt_ensembles) {
    const p = promptEnsemble(pe.class_name, ANOMALIB);
    assert.deepEqual(p.normal, pe.normal_prompts, pe.class_name);
    assert.deepEqual(p.anomalous, pe.anomalous_prompts, pe.class_name);
  }
});

test('prompt ensemble: token ids exact', () => {
  const tok = ClipTokenizer.fromBpeGz(join(OPENCLIP_FIXTURES, 'bpe_simple_vocab_16e6.txt.gz'));
  for (const pe of G.prompt_ensembles) {
    for (const [texts, ids] of [[pe.normal_prompts, i32(pe.normal_ids)], [pe.anomalous_prompts, i32(pe.anomalous_ids)]] as const) {
      const got = tok.tokenize(texts);
      assert.deepEqual(Array.from(got.ids), Array.from(ids), pe.class_name);
    }
  }
});

test('text embeddings: raw prompt features and their means on winclip-tiny within 1e-4', async (t) => {
  const model = await ClipModel.load(DIR, { vocab: join(OPENCLIP_FIXTURES, 'bpe_simple_vocab_16e6.txt.gz') });
  t.after(() => model.dispose());
  for (const pe of G.prompt_ensembles) {
    const { tNormal, tAnomaly } = await ensembleEmbeddings(model, pe.class_name, ANOMALIB);
    const golden = f32(pe.text_embeddings);
    close(tNormal, golden.subarray(0, 24), `${pe.class_name} t_n`);
    close(tAnomaly, golden.subarray(24, 48), `${pe.class_name} t_a`);
  }
});

test('scoring stage on the golden embeddings: every case and query within 1e-4', () => {
  for (const c of G.cases) {
    const pe = G.prompt_ensembles.find((p) => p.class_name === c.class_name)!;
    const te = f32(pe.text_embeddings);
    const text = { tNormal: te.subarray(0, 24), tAnomaly: te.subarray(24, 48) };
    let memory;
    if (c.memory) {
      const k = c.k_shot;
      const patches = f32(c.memory.patch_embeddings);
      const w2 = f32(c.memory.window_embeddings['2']!);
      const w3 = f32(c.memory.window_embeddings['3']!);
      const refs = Array.from({ length: k }, (_, r) => ({
        image: new Float32Array(24),
        patchTokens: patches.subarray(r * 225 * 32, (r + 1) * 225 * 32),
        windows: { 2: w2.subarray(r * 196 * 24, (r + 1) * 196 * 24), 3: w3.subarray(r * 169 * 24, (r + 1) * 169 * 24) },
        grid: 15,
      }));
      memory = buildReferenceMemory(refs, [2, 3]);
    }
    for (const q of c.results) {
      const what = `${c.name} q${q.query_index}`;
      const r = scoreWinClip(inputs(q.query_index), text, memory, ANOMALIB);
      assert.ok(Math.abs(r.s - q.pred_score) <= TOL, `${what} pred_score ${r.s} vs ${q.pred_score}`);
      assert.ok(Math.abs(r.zeroShot - q.zero_shot.image_score) <= TOL, `${what} image_score`);
      for (const s of ['2', '3']) {
        close(r.windowScores[Number(s)]!, f32(q.zero_shot.window_scores[s]!), `${what} zs window scores ${s}`);
        close(r.scaleMaps[Number(s)]!, f32(q.zero_shot.scale_maps[s]!), `${what} zs scale map ${s}`);
      }
      close(r.zeroShotMap, f32(q.zero_shot.map), `${what} zs map`);
      close(r.gridMap, f32(q.grid_map), `${what} grid_map`);
      if (q.few_shot) {
        close(r.fewShotPatchScores!, f32(q.few_shot.patch_scores), `${what} fs patch scores`);
        for (const s of ['2', '3']) {
          close(r.fewShotWindowScores![Number(s)]!, f32(q.few_shot.window_scores[s]!), `${what} fs window scores ${s}`);
          close(r.fewShotScaleMaps![Number(s)]!, f32(q.few_shot.scale_maps[s]!), `${what} fs scale map ${s}`);
        }
        close(r.fewShotMap!, f32(q.few_shot.map), `${what} fs map`);
        assert.ok(Math.abs(r.fewShot! - q.few_shot.map_max) <= TOL, `${what} map_max`);
      } else assert.equal(r.fewShot, undefined);
      const up = upsampleBilinear(r.gridMap, 15, 15, 240, 240);
      if (q.anomaly_map) close(up.data, f32(q.anomaly_map), `${what} anomaly_map`);
      else {
        const idx = G.subsample_indices;
        const sub = idx.flatMap((y) => idx.map((x) => up.data[y * 240 + x]!));
        close(sub, f32(q.anomaly_map_subsample!), `${what} anomaly_map_subsample`);
      }
    }
  }
});

test('harmonic aggregation: a window score of exactly 0 gives 0 on its patches (anomalib’s nan_to_num)', () => {
  const scores = new Float32Array(196).fill(0.5);
  scores[0] = 0;
  const m = harmonicAggregation(scores, 15, 2);
  assert.equal(m[0], 0);
  assert.equal(m[16], 0, 'patch (1, 1) is in window 0 too');
  assert.ok(Math.abs(m[224]! - 0.5) < 1e-7);
});

test('bad inputs are refused naming the field', () => {
  assert.throws(() => harmonicAggregation(new Float32Array(10), 15, 2), /10 window scores for scale 2, expected 196/);
  assert.throws(() => buildReferenceMemory([], [2, 3]), /at least one image/);
  assert.throws(() => promptEnsemble('  ', ANOMALIB), /class name/);
  assert.throws(() => upsampleBilinear(new Float32Array(5), 15, 15, 240, 240), /map has 5 values/);
});

test('few-shot distances through onnxruntime equal the plain JS search within 1e-6 (4-shot memory, query 4)', async () => {
  const { MaxDot } = await import('../../../src/methods/common/nearest.ts');
  const { fewShotDistances, fewShotMaps } = await import('../../../src/methods/winclip/index.ts');
  const refs = [0, 1, 2, 3].map(inputs);
  const memory = buildReferenceMemory(refs, [2, 3]);
  const search = await MaxDot.create();
  try {
    const x = inputs(4);
    const d = await fewShotDistances(search, x, memory, [2, 3]);
    const js = fewShotMaps(x, memory, [2, 3]);
    close(d.patch, js.patchScores, 'patch distances', 1e-6);
    close(d.windows[2]!, js.windowScores[2]!, 'window distances s2', 1e-6);
    close(d.windows[3]!, js.windowScores[3]!, 'window distances s3', 1e-6);
  } finally {
    await search.dispose();
  }
});
