/**
 * ClipModel: an open_clip ViT CLIP (model directory: open_clip_config.json +
 * open_clip_model.safetensors [+ vocabulary]) on onnxruntime, with open_clip's tokenizer and
 * preprocessing. Both towers are ONNX graphs built here from the checkpoint; their sessions are
 * created once in `load` and reused.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RwdaError } from '../errors.ts';
import { l2normalizeRows } from '../util/vec.ts';
import { openClipWeights, type ClipWeights } from './checkpoint.ts';
import { loadModelDirConfig, type ClipConfig } from './config.ts';
import { fingerprintOf, MODEL_DIR_WEIGHTS, weightsSha256 } from './fingerprint.ts';
import type { TowerGraphOptions } from './onnx/build.ts';
import type { SessionOptions } from './onnx/session.ts';
import type { KernelOptions } from './onnx/transformer.ts';
import { decodeImage, preprocessImage, type DecodedImage } from './preprocess/index.ts';
import { ClipTokenizer, type TokenBatch } from './tokenizer/index.ts';
import { TextTower } from './text_tower.ts';
import { PairTextTower, type PairFeatures, type TextPair } from './text_pairs.ts';
import { VisionTower, type PixelOutputs } from './vision_tower.ts';
import { checkWindowScales, DEFAULT_WINDOW_SCALES, WindowTower, type WindowOutputs } from './window_tower.ts';

export interface ClipModelLoadOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice, one per physical core). */
  intraOpNumThreads?: number;
  /** Which towers to load (default 'both'); using a tower that was not loaded throws. */
  towers?: 'both' | 'text' | 'vision';
  /** Tokenizer vocabulary: a `bpe_simple_vocab_16e6.txt.gz` file or a directory holding it or `vocab.json` + `merges.txt`. Default: the model directory. */
  vocab?: string;
  /** A ready tokenizer (overrides `vocab`). */
  tokenizer?: ClipTokenizer;
  /** Read every weight once at load and reject NaN/±Inf by tensor name (costs one pass over the file). */
  validateWeights?: boolean;
  /** Decoder pixel limit for encodeImage/preprocess (default: the decoder's, 100 megapixels). */
  maxPixels?: number;
  /** Advanced: kernel choices for the graphs (default: the fastest exact set). */
  kernels?: KernelOptions;
  /** Advanced: 'external' (default) lets onnxruntime read F32 weights from the safetensors file; 'inline' embeds copies. */
  weightMode?: 'external' | 'inline';
  /** Advanced: more onnxruntime session options. */
  session?: Omit<SessionOptions, 'intraOpNumThreads'>;
}

/** An image for encodeImage: a file path, encoded bytes, a decoded image, or an already preprocessed [3, S, S] tensor. */
export type ImageInput = string | Uint8Array | DecodedImage | Float32Array;

export interface EncodeOptions {
  /** L2-normalise each embedding (torch semantics, eps 1e-12). Default false: raw features. */
  normalize?: boolean;
  /** Items per onnxruntime call (default: 32 prompts / 8 images). */
  batchSize?: number;
  /** Called after each batch with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface EncodeWindowsOptions {
  /** Window sides in patches (default anomalib's [2, 3]); each an integer in 1..grid. */
  scales?: readonly number[];
  /** Images per onnxruntime call (default 1). */
  batchSize?: number;
  /** Called after each batch with (done, total) images. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A CLIP backbone ready to embed text and images.
 *
 * @example
 * ```ts
 * import { ClipModel } from 'rwda';
 * const model = await ClipModel.load('models/ViT-B-16-plus-240');
 * const [text] = await model.encodeText(['a photo of a damaged bottle'], { normalize: true });
 * const [image] = await model.encodeImage(['bottle.png'], { normalize: true });
 * let cos = 0;
 * for (let i = 0; i < text!.length; i++) cos += text![i]! * image![i]!;
 * await model.dispose();
 * ```
 */
export class ClipModel {
  private tokenizerCache: ClipTokenizer | undefined;
  private fingerprintCache: string | undefined;
  /** The prefix-sharing text session, created on the first encodeTextPairs. */
  private pairTower: Promise<PairTextTower> | undefined;
  /** WinCLIP window sessions by scale list, created on first use. */
  private windowTowers = new Map<string, Promise<WindowTower>>();

  private constructor(
    /** The model directory. */
    readonly dir: string,
    /** Resolved architecture and preprocessing config. */
    readonly config: ClipConfig,
    /** The safetensors checkpoint. */
    readonly weightsPath: string,
    /** exp(logit_scale): the multiplier of cosine similarities in CLIP logits. */
    readonly logitScale: number,
    private text: TextTower | undefined,
    private vision: VisionTower | undefined,
    private readonly opts: ClipModelLoadOptions,
  ) {
    this.tokenizerCache = opts.tokenizer;
  }

  /** Loads a model directory and creates the onnxruntime session of each requested tower. */
  static async load(dir: string, opts: ClipModelLoadOptions = {}): Promise<ClipModel> {
    const config = loadModelDirConfig(dir);
    const weightsPath = join(dir, MODEL_DIR_WEIGHTS);
    if (!existsSync(weightsPath)) throw new RwdaError(`${dir}: no ${MODEL_DIR_WEIGHTS} in the model directory`, { code: 'not_found' });
    if (opts.vocab !== undefined && !existsSync(opts.vocab)) throw new RwdaError(`vocabulary not found: ${opts.vocab}`, { code: 'not_found' });
    const weights = openClipWeights(weightsPath, config);
    let text: TextTower | undefined;
    let vision: VisionTower | undefined;
    try {
      if (opts.validateWeights) weights.checkAll();
      const logitScale = Math.exp(weights.get('logit_scale')[0]!);
      const graph: TowerGraphOptions = { source: weights.file, read: weights.get, weightMode: opts.weightMode, kernels: opts.kernels };
      const session: SessionOptions = { ...(opts.session ?? {}), intraOpNumThreads: opts.intraOpNumThreads };
      const towers = opts.towers ?? 'both';
      if (towers !== 'vision') text = await TextTower.create(config, graph, session);
      if (towers !== 'text') vision = await VisionTower.create(config, graph, session);
      return new ClipModel(dir, config, weightsPath, logitScale, text, vision, opts);
    } catch (err) {
      await text?.dispose();
      await vision?.dispose();
      throw err;
    } finally {
      closeWeights(weights);
    }
  }

  /** The text tower (undefined when not loaded), for callers that need its lower-level options. */
  get textTower(): TextTower | undefined {
    return this.text;
  }

  /** The vision tower (undefined when not loaded). */
  get visionTower(): VisionTower | undefined {
    return this.vision;
  }

  /** The tokenizer (loaded on first use from `vocab` or the model directory). */
  get tokenizer(): ClipTokenizer {
    if (!this.tokenizerCache) {
      const v = this.opts.vocab;
      if (v === undefined) this.tokenizerCache = ClipTokenizer.fromModelDir(this.dir);
      else if (statSync(v).isDirectory()) this.tokenizerCache = ClipTokenizer.fromModelDir(v);
      else this.tokenizerCache = ClipTokenizer.fromBpeGz(v);
    }
    return this.tokenizerCache;
  }

  /** open_clip `tokenize`: context-length id rows (SOT … EOT, zero padded). */
  tokenize(texts: readonly string[]): TokenBatch {
    return this.tokenizer.tokenize(texts, this.config.text.contextLength);
  }

  /** Text embeddings, one Float32Array [embedDim] per text, in input order (rows of one shared buffer). */
  async encodeText(texts: readonly string[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    return this.encodeTokens(this.tokenize(texts), opts);
  }

  /** Text embeddings from token ids: a TokenBatch, or rows of ids (SOT … EOT, optional zero padding). */
  async encodeTokens(ids: TokenBatch | ReadonlyArray<ArrayLike<number>>, opts: EncodeOptions = {}): Promise<Float32Array[]> {
    const tower = this.requireText();
    const rows = isTokenBatch(ids) ? batchRows(ids) : ids;
    const flat = await tower.encodeIds(rows, { batchSize: opts.batchSize, onProgress: opts.onProgress });
    return this.finish(flat, rows.length, opts.normalize);
  }

  /**
   * Text embeddings of prompt pairs: the same values as encodeText of each prompt, with the tokens
   * the two prompts share before their first difference run once per pair (see text_pairs.ts).
   * `batchSize` counts prompts, two per pair; progress is reported in pairs.
   */
  async encodeTextPairs(pairs: readonly TextPair[], opts: EncodeOptions = {}): Promise<PairFeatures<Float32Array[]>> {
    this.requireText();
    const { intraOpNumThreads, kernels, weightMode, session } = this.opts;
    this.pairTower ??= PairTextTower.fromCheckpoint(this.config, this.weightsPath, { kernels, weightMode, session: { ...(session ?? {}), intraOpNumThreads } }).catch((err: unknown) => {
      this.pairTower = undefined;
      throw err;
    });
    const tower = await this.pairTower;
    const normal = batchRows(this.tokenize(pairs.map((p) => p.normal)));
    const anomaly = batchRows(this.tokenize(pairs.map((p) => p.anomaly)));
    const r = await tower.encodeIdPairs(normal, anomaly, { batchSize: opts.batchSize, onProgress: opts.onProgress });
    return { normal: this.finish(r.normal, pairs.length, opts.normalize), anomaly: this.finish(r.anomaly, pairs.length, opts.normalize) };
  }

  /** open_clip's val transform: decode (if needed) → resize → centre crop → RGB → normalise; [3, S, S]. */
  async preprocess(image: string | Uint8Array | DecodedImage): Promise<Float32Array> {
    const img = typeof image === 'string' || image instanceof Uint8Array ? await decodeImage(image, { maxPixels: this.opts.maxPixels }) : image;
    return preprocessImage(img, this.config.preprocess);
  }

  /** Image embeddings, one Float32Array [embedDim] per image, in input order. Files are decoded batch by batch. */
  async encodeImage(images: readonly ImageInput[], opts: EncodeOptions = {}): Promise<Float32Array[]> {
    const tower = this.requireVision();
    const per = tower.imageLength;
    const batchSize = opts.batchSize ?? 8;
    const out = new Float32Array(images.length * this.config.embedDim);
    for (let start = 0; start < images.length; start += batchSize) {
      const chunk = images.slice(start, start + batchSize);
      const pixels = new Float32Array(chunk.length * per);
      for (let i = 0; i < chunk.length; i++) {
        const item = chunk[i]!;
        if (item instanceof Float32Array) {
          if (item.length !== per) throw new RwdaError(`image ${start + i}: preprocessed tensor has ${item.length} floats, expected 3·${this.config.vision.imageSize}² = ${per}`);
          pixels.set(item, i * per);
        } else {
          pixels.set(await this.preprocess(item), i * per);
        }
      }
      const { features } = await tower.encodePixels(pixels, { batchSize, withPatchTokens: false });
      out.set(features, start * this.config.embedDim);
      opts.onProgress?.(start + chunk.length, images.length);
    }
    return this.finish(out, images.length, opts.normalize);
  }

  /** Runs the vision tower on normalised pixels [B, 3, S, S]: raw features [B, embed] and patch tokens [B, g², width]. */
  async encodePixels(pixels: Float32Array, opts: Omit<EncodeOptions, 'normalize'> = {}): Promise<PixelOutputs> {
    const r = await this.requireVision().encodePixels(pixels, { batchSize: opts.batchSize, onProgress: opts.onProgress });
    checkFinite(r.features, 'image features');
    return r;
  }

  /**
   * WinCLIP's vision passes for preprocessed images (one [B, 3, S, S] tensor, or [3, S, S] tensors):
   * per image the raw image embedding, the ln_post patch tokens and the CLS embedding of every
   * window of each scale, all from one onnxruntime run per batch (see window_tower.ts).
   */
  async encodeWindows(images: Float32Array | readonly Float32Array[], opts: EncodeWindowsOptions = {}): Promise<WindowOutputs[]> {
    this.requireVision();
    const scales = checkWindowScales(opts.scales ?? DEFAULT_WINDOW_SCALES, this.config.vision.gridSize);
    const per = 3 * this.config.vision.imageSize ** 2;
    let pixels: Float32Array;
    if (images instanceof Float32Array) {
      pixels = images;
    } else {
      if (!Array.isArray(images) || images.length === 0) throw new RwdaError('images: expected a non-empty list of preprocessed [3, S, S] tensors');
      pixels = new Float32Array(images.length * per);
      images.forEach((img, i) => {
        if (!(img instanceof Float32Array) || img.length !== per) {
          throw new RwdaError(`images[${i}]: preprocessed tensor has ${img instanceof Float32Array ? img.length : 'no'} floats, expected 3·${this.config.vision.imageSize}² = ${per}`);
        }
        pixels.set(img, i * per);
      });
    }
    const key = scales.join(',');
    let tower = this.windowTowers.get(key);
    if (!tower) {
      const { intraOpNumThreads, kernels, weightMode, session } = this.opts;
      tower = WindowTower.fromCheckpoint(this.config, this.weightsPath, scales, { kernels, weightMode, session: { ...(session ?? {}), intraOpNumThreads } });
      tower.catch(() => this.windowTowers.delete(key));
      this.windowTowers.set(key, tower);
    }
    return (await tower).encodePixels(pixels, { batchSize: opts.batchSize, onProgress: opts.onProgress });
  }

  /** The backbone fingerprint (config + weights sha256); hashes the weights on first use (cached on disk). */
  get fingerprint(): string {
    this.fingerprintCache ??= fingerprintOf(this.config, weightsSha256(this.weightsPath));
    return this.fingerprintCache;
  }

  /** Releases both onnxruntime sessions. */
  async dispose(): Promise<void> {
    const { text, vision, pairTower } = this;
    const windowTowers = [...this.windowTowers.values()];
    this.text = undefined;
    this.vision = undefined;
    this.pairTower = undefined;
    this.windowTowers.clear();
    await text?.dispose();
    await vision?.dispose();
    await (await pairTower?.catch(() => undefined))?.dispose();
    for (const t of windowTowers) await (await t.catch(() => undefined))?.dispose();
  }

  private finish(flat: Float32Array, n: number, normalize: boolean | undefined): Float32Array[] {
    const E = this.config.embedDim;
    checkFinite(flat, 'embeddings');
    if (normalize) l2normalizeRows(flat, E);
    return Array.from({ length: n }, (_, i) => flat.subarray(i * E, (i + 1) * E));
  }

  private requireText(): TextTower {
    if (!this.text) throw new RwdaError(`the text tower of ${this.dir} is not loaded (disposed, or loaded with towers: 'vision')`);
    return this.text;
  }

  private requireVision(): VisionTower {
    if (!this.vision) throw new RwdaError(`the vision tower of ${this.dir} is not loaded (disposed, or loaded with towers: 'text')`);
    return this.vision;
  }
}

function isTokenBatch(x: unknown): x is TokenBatch {
  return typeof x === 'object' && x !== null && (x as TokenBatch).ids instanceof Int32Array && typeof (x as TokenBatch).contextLength === 'number';
}

function batchRows(t: TokenBatch): Int32Array[] {
  return Array.from({ length: t.count }, (_, i) => t.ids.subarray(i * t.contextLength, (i + 1) * t.contextLength));
}

// NaN/Inf weights are not read by JS on the fast path, so they would surface here first.
function checkFinite(a: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x - x !== 0) throw new RwdaError(`the model produced a non-finite value in ${what} (the weights may hold NaN/Inf; load with validateWeights to find the tensor)`);
  }
}

function closeWeights(w: ClipWeights): void {
  w.close();
}
