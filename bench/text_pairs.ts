// The method's real text workload: augmentedPairs({ n: 256, seed: 0 }) (512 prompts), encoded by the
// plain tower at dynamic length and padded to 77, and by the pair encoder that runs each pair's
// shared prefix once (ClipModel.encodeTextPairs); ms per prompt, each as a ratio to padded-77.
// Called from bench/backbone.ts with its loaded model.
import type { ClipModel } from '../src/clip/model.ts';
import { DEFAULT_TEXT_BATCH, firstArgmax } from '../src/clip/text_tower.ts';
import { packedLength, sharedPrefixLength } from '../src/clip/text_pairs.ts';
import { augmentedPairs } from '../src/methods/rwda/prompts.ts';
import { bestOfInterleaved, round } from './common.ts';

export interface TextPairsBenchOptions {
  pairs?: number;
  seed?: number;
  /** Prompts per onnxruntime call (both encoders). */
  textBatch?: number;
  rounds?: number;
}

/** Times the three text paths on the paper's prompt pairs and checks the pair path against the plain one. */
export async function benchTextPairs(model: ClipModel, opts: TextPairsBenchOptions = {}): Promise<Record<string, unknown>> {
  const pairs = augmentedPairs({ n: opts.pairs ?? 256, seed: opts.seed ?? 0 });
  const tower = model.textTower!;
  const C = model.config.text.contextLength;
  const rowsOf = (texts: string[]) => {
    const t = model.tokenize(texts);
    return Array.from({ length: t.count }, (_, i) => t.ids.subarray(i * C, (i + 1) * C));
  };
  const normal = rowsOf(pairs.map((p) => p.normal));
  const anomaly = rowsOf(pairs.map((p) => p.anomaly));
  const rows = [...normal, ...anomaly];
  const batchSize = opts.textBatch ?? DEFAULT_TEXT_BATCH;

  // The first call builds the pair session (a second graph over the same checkpoint).
  const t0 = performance.now();
  await model.encodeTextPairs(pairs.slice(0, 1));
  const createS = (performance.now() - t0) / 1000;

  const [dynTotal, padTotal, pairTotal] = await bestOfInterleaved(
    [() => tower.encodeIds(rows, { batchSize }), () => tower.encodeIds(rows, { batchSize, padToContext: true }), () => model.encodeTextPairs(pairs, { batchSize })],
    opts.rounds ?? 3,
  );
  const per = (ms: number) => ms / rows.length;
  const [dyn, pad, pair] = [per(dynTotal!), per(padTotal!), per(pairTotal!)];

  // Exactness on the full-size model: pair features vs the plain tower's.
  const plain = await tower.encodeIds(rows, { batchSize });
  const shared = await model.encodeTextPairs(pairs, { batchSize });
  const E = model.config.embedDim;
  let maxDiff = 0;
  let maxAbs = 0;
  pairs.forEach((_, i) => {
    for (const [k, v] of [
      [i, shared.normal[i]!],
      [pairs.length + i, shared.anomaly[i]!],
    ] as const) {
      for (let j = 0; j < E; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(v[j]! - plain[k * E + j]!));
        maxAbs = Math.max(maxAbs, Math.abs(plain[k * E + j]!));
      }
    }
  });

  const tokens = rows.reduce((a, r) => a + firstArgmax(r) + 1, 0);
  const packed = normal.reduce((a, r, i) => {
    const g = [r, anomaly[i]!];
    const eots = g.map(firstArgmax);
    return a + packedLength({ rows: g, eots, prefix: sharedPrefixLength(g, eots) });
  }, 0);
  return {
    prompts: rows.length,
    source: `augmentedPairs({ n: ${pairs.length}, seed: ${opts.seed ?? 0} })`,
    batch_size: batchSize,
    mean_tokens_with_sot_eot: round(tokens / rows.length, 1),
    packed_tokens_per_prompt: round(packed / rows.length, 1),
    token_ratio_pair_over_plain: round(packed / tokens, 3),
    pair_session_create_seconds: round(createS, 2),
    dynamic_ms_per_prompt: round(dyn, 2),
    padded77_ms_per_prompt: round(pad, 2),
    pair_shared_ms_per_prompt: round(pair, 2),
    dynamic_over_padded: round(dyn / pad, 3),
    pair_shared_over_padded: round(pair / pad, 3),
    pair_shared_over_dynamic: round(pair / dyn, 3),
    pair_max_abs_diff_vs_plain: maxDiff,
    feature_max_abs: round(maxAbs, 3),
  };
}
