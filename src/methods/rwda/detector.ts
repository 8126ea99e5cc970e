/**
 * The trained detector: the FNN plus its backbone, scoring images as the paper's "CLIP + ours".
 *
 * For one L2-normalised image embedding x:
 *   s_clip = softmax([cos(x, t_n), cos(x, t_a)] / τ)[1], τ = 0.01, with t_n / t_a the embeddings of
 *            "a photo of a {object}" / "a photo of a damaged {object}" (object = "object" unless a
 *            category name is given; they are computed here and cached, not stored in the detector);
 *   s_fnn  = sigmoid(FNN(x)) in eval mode;
 *   s      = (s_clip + s_fnn) / 2.
 * With multi-crop, each view (standard view + grid crops) gets these three scores, and each kind is
 * aggregated on its own as mean(standard, max over crops): s is then the aggregate of the per-view
 * fused scores, which can differ from (s_clip + s_fnn) / 2 of the aggregates when different crops
 * hold the maxima.
 */
import { RwdaError } from '../../errors.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import { backboneName, type Backbone } from '../common/backbone.ts';
import { MULTICROP_DEFAULTS, PROMPT_DEFAULTS } from './defaults.ts';
import { readFnn, readMeta, writeDetectorDir, type DetectorMeta } from './detector_artifact.ts';
import { embedImageViews, type ViewCounts } from '../common/embed_cache.ts';
import { checkChunkSize, readInputs, reportErrors, type DetectInput } from '../common/inputs.ts';
import type { Fnn } from './fnn/model.ts';
import type { CropAggregation } from '../common/multicrop.ts';
import { promptPairEmbeddings } from '../clip/scoring.ts';
import { l2normalizeRows } from '../common/scores.ts';
import { scoreRows, scoreViewRows, type Scores } from './scoring.ts';

export type { Scores } from './scoring.ts';

/** One scored view of a multi-crop image. */
export interface ViewScores extends Scores {
  id: string;
}

/** One scored image. */
export interface ImageScores extends Scores {
  /** Position in the input list. */
  index: number;
  /** The file path, or the name given for bytes. */
  file: string;
  /** Per-view scores ("std" first), present with crops: 'grid'. */
  views?: ViewScores[];
}

export type { DetectInput } from '../common/inputs.ts';

/** Options of Detector.score. */
export interface ScoreOptions {
  /** Object name in the CLIP prompts (default "object"; give the category in the known-object setup). */
  object?: string;
  /** 'none' (default): the standard view only; 'grid': multi-crop (standard view + k×k grids). */
  crops?: 'none' | 'grid';
  /** Grid scales for crops 'grid' (default [2, 3]). */
  scales?: readonly number[];
  /** How crop scores are reduced before averaging with the standard view (default 'max'). */
  aggregation?: CropAggregation;
  /** Embedding cache (default: the one the detector was loaded or trained with). */
  store?: EmbeddingStore;
  /** Images decoded and encoded per step (default 8). */
  chunkSize?: number;
  /** Decoder pixel limit. */
  maxPixels?: number;
  /**
   * Called for an image that cannot be read or decoded; the run goes on and the image is left out
   * of the results. Without it the first such image throws.
   */
  onError?: (file: string, error: Error) => void;
  /** Called with (images done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Called with the image-view cache counts of each step. */
  onViews?: (counts: ViewCounts) => void;
}

function checkObject(object: string | undefined): string {
  const o = object ?? PROMPT_DEFAULTS.unknownObject;
  if (typeof o !== 'string' || o.trim().length === 0) throw new RwdaError(`object name must be a non-empty string, got ${JSON.stringify(object)}`);
  return o;
}

/**
 * A trained detector bound to its backbone.
 *
 * @example
 * ```ts
 * import { ClipModel, Detector, trainDetector } from 'rwda';
 * const model = await ClipModel.load('models/ViT-B-16-plus-240');
 * const detector = await trainDetector(model, { pairs: 10_000, seed: 0 });
 * detector.save('detectors/b16p');
 * const again = await Detector.load('detectors/b16p', model);
 * const [r] = await again.score(['hazelnut/001.png'], { object: 'hazelnut', crops: 'grid' });
 * console.log(r.sClip, r.sFnn, r.s);
 * ```
 */
export class Detector {
  /** Where the detector was loaded from or last saved to. */
  path: string | undefined;
  private metaValue: DetectorMeta;
  private readonly textPairs = new Map<string, { tNormal: Float32Array; tAnomaly: Float32Array }>();

  /** Wraps a trained FNN and its metadata; use trainDetector or Detector.load. */
  constructor(
    meta: DetectorMeta,
    readonly fnn: Fnn,
    readonly backbone: Backbone,
    readonly store?: EmbeddingStore,
  ) {
    this.metaValue = meta;
    if (fnn.dim !== backbone.config.embedDim) {
      throw new RwdaError(`detector: the FNN takes ${fnn.dim}-d inputs but the backbone ${backboneName(backbone)} embeds in ${backbone.config.embedDim} dimensions`, { code: 'conflict' });
    }
  }

  /** Everything detector.json records (fnnSha256 is empty until the detector is saved). */
  get meta(): DetectorMeta {
    return this.metaValue;
  }

  /**
   * Loads a detector directory for `backbone`, refusing one trained for another backbone (by
   * fingerprint) or for another embedding width.
   */
  static async load(dir: string, backbone: Backbone, opts: { store?: EmbeddingStore } = {}): Promise<Detector> {
    const meta = readMeta(dir);
    const fp = backbone.fingerprint;
    if (meta.backbone.fingerprint !== fp) {
      throw new RwdaError(
        `detector ${dir} was trained for backbone ${meta.backbone.name} (fingerprint ${meta.backbone.fingerprint}), ` +
          `but the model ${backbone.dir ?? backboneName(backbone)} has fingerprint ${fp}; train a detector for this model with \`rwda train\``,
        { code: 'conflict' },
      );
    }
    if (meta.backbone.embedDim !== backbone.config.embedDim) {
      throw new RwdaError(`detector ${dir}: embed_dim ${meta.backbone.embedDim} does not match the model's ${backbone.config.embedDim}`, { code: 'conflict' });
    }
    const d = new Detector(meta, readFnn(dir, meta), backbone, opts.store);
    d.path = dir;
    return d;
  }

  /** Writes the detector directory atomically (replacing an existing detector there); returns its absolute path. */
  save(dir: string): string {
    const { fnnSha256: _old, ...meta } = this.metaValue;
    const written = writeDetectorDir(dir, meta, this.fnn);
    this.metaValue = written.meta;
    this.path = written.path;
    return written.path;
  }

  /** L2-normalised embeddings of the prompt-guided pair for `object` (cached in memory and in the store). */
  async promptEmbeddings(object?: string, store: EmbeddingStore | undefined = this.store): Promise<{ tNormal: Float32Array; tAnomaly: Float32Array }> {
    const o = checkObject(object);
    const hit = this.textPairs.get(o);
    if (hit) return hit;
    const t = await promptPairEmbeddings(this.backbone, o, this.meta.prompts, store);
    this.textPairs.set(o, t);
    return t;
  }

  /** Scores n L2-normalised rows (row-major [n, dim]) against a prompt pair's embeddings. */
  scoreRows(x: Float32Array, tNormal: Float32Array, tAnomaly: Float32Array, temperature: number = PROMPT_DEFAULTS.temperature): Scores[] {
    return scoreRows(this.fnn, x, { tNormal, tAnomaly }, temperature);
  }

  /** Scores precomputed image embeddings (raw or normalised; they are L2-normalised here). */
  async scoreEmbeddings(embeddings: readonly Float32Array[] | Float32Array, object?: string): Promise<Scores[]> {
    const dim = this.fnn.dim;
    const rows = embeddings instanceof Float32Array ? [embeddings] : embeddings;
    const x = new Float32Array(rows.length * dim);
    rows.forEach((e, i) => {
      if (e.length !== dim) throw new RwdaError(`detector: embedding ${i} has ${e.length} values, expected ${dim}`);
      x.set(e, i * dim);
    });
    l2normalizeRows(x, dim);
    const { tNormal, tAnomaly } = await this.promptEmbeddings(object);
    return this.scoreRows(x, tNormal, tAnomaly);
  }

  /** Scores image files or bytes; see the module comment for the scores and the multi-crop aggregation. */
  async score(images: readonly DetectInput[], opts: ScoreOptions = {}): Promise<ImageScores[]> {
    const store = opts.store ?? this.store;
    const crops = opts.crops ?? 'none';
    if (crops !== 'none' && crops !== 'grid') throw new RwdaError(`crops must be 'none' or 'grid', got ${JSON.stringify(crops)}`);
    const scales = crops === 'grid' ? (opts.scales ?? MULTICROP_DEFAULTS.scales) : undefined;
    const aggregation = opts.aggregation ?? MULTICROP_DEFAULTS.cropAggregation;
    const chunkSize = checkChunkSize(opts.chunkSize, 8);
    const { tNormal, tAnomaly } = await this.promptEmbeddings(opts.object, store);
    const dim = this.fnn.dim;
    const out: ImageScores[] = [];
    for (let start = 0; start < images.length; start += chunkSize) {
      const chunk = images.slice(start, start + chunkSize);
      const { names, sources, at, errors } = await readInputs(chunk, start);
      const { results, counts } = await embedImageViews(this.backbone, sources, { store, scales, maxPixels: opts.maxPixels });
      opts.onViews?.(counts);
      const ok: Array<{ k: number; ids: string[]; data: Float32Array }> = [];
      results.forEach((r, k) => {
        if (r instanceof Error) errors.set(at[k]!, r);
        else ok.push({ k, ids: r.ids, data: r.data });
      });
      reportErrors(errors, names, opts.onError);
      // One FNN call for every view of the chunk.
      const all = new Float32Array(ok.reduce((a, o) => a + o.data.length, 0));
      let off = 0;
      for (const o of ok) {
        all.set(o.data, off);
        off += o.data.length;
      }
      const nViews = ok[0]?.ids.length ?? 1;
      if (all.length !== ok.length * nViews * dim) throw new Error('internal: view rows out of step');
      const scored = scoreViewRows(this.fnn, all, nViews, { tNormal, tAnomaly }, { temperature: PROMPT_DEFAULTS.temperature, aggregation });
      ok.forEach((o, j) => {
        const res: ImageScores = { index: start + at[o.k]!, file: names[at[o.k]!]!, ...scored.images[j]! };
        if (scales !== undefined) res.views = o.ids.map((id, v) => ({ id, ...scored.views[j * nViews + v]! }));
        out.push(res);
      });
      opts.onProgress?.(Math.min(start + chunkSize, images.length), images.length);
    }
    return out;
  }

  /** Releases the FNN's onnxruntime sessions (the backbone is the caller's to dispose). */
  dispose(): void {
    this.fnn.dispose();
  }
}
