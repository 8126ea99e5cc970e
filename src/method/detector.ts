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
import { readFile } from 'node:fs/promises';
import { RwdaError, fsErrorCode } from '../errors.ts';
import type { EmbeddingStore } from '../store/index.ts';
import { backboneName, type Backbone } from './backbone.ts';
import { MULTICROP_DEFAULTS, PROMPT_DEFAULTS } from './defaults.ts';
import { readFnn, readMeta, writeDetectorDir, type DetectorMeta } from './detector_artifact.ts';
import { embedImageViews, embedTexts, type ImageSource, type ViewCounts } from './embed_cache.ts';
import type { Fnn } from './fnn/model.ts';
import { aggregateViewScores, type CropAggregation } from './multicrop.ts';
import { promptPair } from './prompts.ts';
import { clipScores, fuseScores, l2normalizeRows } from './scores.ts';

/** The three scores of one image or view. */
export interface Scores {
  /** Zero-shot CLIP score. */
  sClip: number;
  /** FNN score sigmoid(FNN(x)). */
  sFnn: number;
  /** "CLIP + ours". */
  s: number;
}

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

/** An image for Detector.score: a file path or encoded bytes (with an optional name for messages). */
export type DetectInput = string | Uint8Array | { name: string; bytes: Uint8Array };

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

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
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
    const pair = promptPair({ object: o, normalWord: this.meta.prompts.normalWord, anomalyWord: this.meta.prompts.anomalyWord });
    const { data, dim } = await embedTexts(this.backbone, [pair.normal, pair.anomaly], { store });
    const t = { tNormal: data.slice(0, dim), tAnomaly: data.slice(dim, 2 * dim) };
    this.textPairs.set(o, t);
    return t;
  }

  /** Scores n L2-normalised rows (row-major [n, dim]) against a prompt pair's embeddings. */
  scoreRows(x: Float32Array, tNormal: Float32Array, tAnomaly: Float32Array, temperature: number = PROMPT_DEFAULTS.temperature): Scores[] {
    const dim = this.fnn.dim;
    if (x.length % dim !== 0) throw new RwdaError(`detector: ${x.length} values is not a whole number of ${dim}-d embeddings`);
    const n = x.length / dim;
    const logits = this.fnn.predictLogits(x, n);
    const clip = clipScores(x, dim, tNormal, tAnomaly, temperature);
    const out: Scores[] = [];
    for (let r = 0; r < n; r++) {
      const sFnn = sigmoid(logits[r]!);
      out.push({ sClip: clip[r]!, sFnn, s: fuseScores(clip[r]!, sFnn) });
    }
    return out;
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
    const chunkSize = opts.chunkSize ?? 8;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RwdaError(`chunkSize must be a positive integer, got ${chunkSize}`);
    const { tNormal, tAnomaly } = await this.promptEmbeddings(opts.object, store);
    const dim = this.fnn.dim;
    const out: ImageScores[] = [];
    const fail = (file: string, err: unknown): void => {
      const e = err instanceof Error ? err : new Error(String(err));
      if (!opts.onError) throw err instanceof RwdaError ? err : new RwdaError(e.message.includes(file) ? e.message : `${file}: ${e.message}`, { cause: err });
      opts.onError(file, e);
    };
    for (let start = 0; start < images.length; start += chunkSize) {
      const chunk = images.slice(start, start + chunkSize);
      const names = chunk.map((im, i) => (typeof im === 'string' ? im : im instanceof Uint8Array ? `image ${start + i}` : im.name));
      const read = await Promise.allSettled(chunk.map((im) => (typeof im === 'string' ? readFile(im) : Promise.resolve(im instanceof Uint8Array ? im : im.bytes))));
      const sources: ImageSource[] = [];
      const at: number[] = [];
      // Failures are reported after the chunk, in input order.
      const errors = new Map<number, Error>();
      read.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          sources.push({ name: names[i]!, bytes: r.value });
          at.push(i);
        } else {
          const code = (r.reason as NodeJS.ErrnoException).code;
          errors.set(i, new RwdaError(`${names[i]}: cannot read (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (r.reason as Error).message})`, { code: fsErrorCode(r.reason) }));
        }
      });
      const { results, counts } = await embedImageViews(this.backbone, sources, { store, scales, maxPixels: opts.maxPixels });
      opts.onViews?.(counts);
      const ok: Array<{ k: number; ids: string[]; data: Float32Array }> = [];
      results.forEach((r, k) => {
        if (r instanceof Error) errors.set(at[k]!, r);
        else ok.push({ k, ids: r.ids, data: r.data });
      });
      [...errors.keys()].sort((a, b) => a - b).forEach((i) => fail(names[i]!, errors.get(i)!));
      // One FNN call for every view of the chunk.
      const all = new Float32Array(ok.reduce((a, o) => a + o.data.length, 0));
      let off = 0;
      for (const o of ok) {
        all.set(o.data, off);
        off += o.data.length;
      }
      const scored = all.length > 0 ? this.scoreRows(all, tNormal, tAnomaly) : [];
      let row = 0;
      for (const o of ok) {
        const views = o.ids.map((id) => ({ id, ...scored[row++]! }));
        const [std, ...rest] = views;
        const agg = (kind: keyof Scores): number => aggregateViewScores(std![kind], rest.map((v) => v[kind]), aggregation);
        const res: ImageScores = { index: start + at[o.k]!, file: names[at[o.k]!]!, sClip: agg('sClip'), sFnn: agg('sFnn'), s: agg('s') };
        if (scales !== undefined) res.views = views;
        out.push(res);
      }
      if (row * dim !== all.length) throw new Error('internal: view rows out of step');
      opts.onProgress?.(Math.min(start + chunkSize, images.length), images.length);
    }
    return out;
  }

  /** Releases the FNN's onnxruntime sessions (the backbone is the caller's to dispose). */
  dispose(): void {
    this.fnn.dispose();
  }
}
