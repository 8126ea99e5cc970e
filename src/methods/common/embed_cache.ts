/**
 * Embeddings through the optional on-disk store. The store holds RAW encoder outputs (as the
 * backbone returns them), keyed by backbone fingerprint + prompt text, or by fingerprint + sha256
 * of the image file's bytes + view id; everything handed to the method is L2-normalised here.
 * Normalising a stored raw vector gives bit-for-bit what normalising a fresh one gives, so a cached
 * run scores exactly like an uncached one.
 */
import { RwdaError } from '../../errors.ts';
import { cropResizeImage, decodeImage, preprocessImage, type DecodedImage } from '../../clip/preprocess/index.ts';
import { sha256Bytes } from '../../store/hash.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import type { Backbone } from './backbone.ts';
import { cropViews, STANDARD_VIEW_ID, viewIds, type View } from './multicrop.ts';
import { l2normalizeRows } from './scores.ts';

/** Result of embedTexts: normalised rows in input order and where they came from. */
export interface TextEmbeddings {
  /** Row-major [texts.length, dim], each row L2-normalised (raw with `normalize: false`). */
  data: Float32Array;
  dim: number;
  /** Distinct texts run through the text tower. */
  encoded: number;
  /** Distinct texts read from the store. */
  cached: number;
}

/** Options of embedTexts. */
export interface EmbedTextsOptions {
  store?: EmbeddingStore;
  /** Prompts per text-tower call. */
  batchSize?: number;
  /** L2-normalise each row (default true; WinCLIP averages raw features). */
  normalize?: boolean;
  /** Called with (encoded so far, to encode) distinct texts as batches finish. */
  onProgress?: (done: number, total: number) => void;
}

function checkDim(v: Float32Array, dim: number, what: string): void {
  if (v.length !== dim) throw new RwdaError(`${what}: embedding has ${v.length} values, the backbone's embed_dim is ${dim}`);
}

/**
 * L2-normalised text embeddings; only texts missing from the store are encoded (once each, the
 * text tower sorts them by length into batches), and those are then stored.
 */
export async function embedTexts(backbone: Backbone, texts: readonly string[], opts: EmbedTextsOptions = {}): Promise<TextEmbeddings> {
  const dim = backbone.config.embedDim;
  const unique = [...new Set(texts)];
  const found = new Map<string, Float32Array>();
  if (opts.store) {
    const got = opts.store.getTexts(backbone.fingerprint, unique);
    unique.forEach((t, i) => {
      const e = got[i];
      if (e === undefined) return;
      checkDim(e, dim, `cache ${opts.store!.path}: text ${JSON.stringify(t)}`);
      found.set(t, e);
    });
  }
  const missing = unique.filter((t) => !found.has(t));
  if (missing.length > 0) {
    const fresh = await backbone.encodeText(missing, { batchSize: opts.batchSize, onProgress: opts.onProgress });
    if (fresh.length !== missing.length) throw new RwdaError(`text encoder returned ${fresh.length} embeddings for ${missing.length} texts`);
    missing.forEach((t, i) => {
      // Copy: the encoder's rows may be views of one shared buffer.
      const e = Float32Array.from(fresh[i]!);
      checkDim(e, dim, `text ${JSON.stringify(t)}`);
      found.set(t, e);
    });
    opts.store?.putTexts(
      backbone.fingerprint,
      missing.map((t) => ({ text: t, embedding: found.get(t)! })),
    );
  }
  const data = new Float32Array(texts.length * dim);
  texts.forEach((t, i) => data.set(found.get(t)!, i * dim));
  if (opts.normalize !== false) l2normalizeRows(data, dim);
  return { data, dim, encoded: missing.length, cached: unique.length - missing.length };
}

/** One image to embed: encoded file bytes and a name for messages. */
export interface ImageSource {
  name: string;
  bytes: Uint8Array;
  /** sha256 of `bytes` when the caller already has it (the cache key; computed here otherwise). */
  sha256?: string;
}

/** The views of one image with their L2-normalised embeddings (row i belongs to ids[i]). */
export interface ViewEmbeddings {
  ids: string[];
  /** Row-major [ids.length, dim]. */
  data: Float32Array;
  /** Image size in pixels, when the image had to be decoded (not known on a full cache hit). */
  size?: { width: number; height: number };
}

/** Options of embedImageViews. */
export interface EmbedViewsOptions {
  store?: EmbeddingStore;
  /** Grid scales of the crop views; undefined = the standard view only. */
  scales?: readonly number[];
  /** Decoder pixel limit. */
  maxPixels?: number;
  /** Images per vision-tower call. */
  batchSize?: number;
}

/** Counts of one embedImageViews call. */
export interface ViewCounts {
  encoded: number;
  cached: number;
}

/** The model input of one view: the full val transform for "std", crop box then resize to S otherwise. */
export function viewTensor(img: DecodedImage, view: View, backbone: Backbone): Float32Array {
  const cfg = backbone.config.preprocess;
  if (view.id === STANDARD_VIEW_ID) return preprocessImage(img, cfg);
  const { left, top, width, height } = view.box;
  // Pillow's crop(box) then resize((S, S), BICUBIC): a square box goes straight to the model size.
  return cropResizeImage(img, [left, top, left + width, top + height], cfg);
}

/**
 * Embeds the views of several images, reading what the store has and encoding the rest in one
 * batched pass. A failure to decode an image is returned for that image (the others go on);
 * encoder failures are thrown.
 */
export async function embedImageViews(
  backbone: Backbone,
  images: readonly ImageSource[],
  opts: EmbedViewsOptions = {},
): Promise<{ results: Array<ViewEmbeddings | Error>; counts: ViewCounts }> {
  const dim = backbone.config.embedDim;
  const ids = opts.scales === undefined ? [STANDARD_VIEW_ID] : viewIds(opts.scales);
  const fp = backbone.fingerprint;
  const counts: ViewCounts = { encoded: 0, cached: 0 };
  const shas = images.map((im) => im.sha256 ?? sha256Bytes(im.bytes));
  const rows: Array<Array<Float32Array | undefined>> = images.map((_, i) =>
    opts.store ? opts.store.getImages(fp, ids.map((viewId) => ({ sha256: shas[i]!, viewId }))) : ids.map(() => undefined),
  );
  const fromStore = rows.map((r) => r.filter((e) => e !== undefined).length);
  const results: Array<ViewEmbeddings | Error> = new Array(images.length);
  const sizes: Array<{ width: number; height: number } | undefined> = new Array(images.length);
  // Decode only the images with a view missing; decoding runs on libuv's pool, so they overlap.
  const need = images.map((_, i) => rows[i]!.some((r) => r === undefined));
  const decoded = await Promise.allSettled(
    images.map((im, i) => (need[i] ? decodeImage(im.bytes, { name: im.name, maxPixels: opts.maxPixels }) : Promise.resolve(undefined))),
  );
  const tensors: Float32Array[] = [];
  const slots: Array<{ image: number; view: number }> = [];
  decoded.forEach((d, i) => {
    if (d.status === 'rejected') {
      results[i] = d.reason instanceof Error ? d.reason : new Error(String(d.reason));
      return;
    }
    const img = d.value;
    if (img === undefined) return;
    sizes[i] = { width: img.width, height: img.height };
    try {
      const views = cropViews(img.width, img.height, opts.scales ?? []);
      // Build this image's tensors first, so an image failing half-way adds nothing to the batch.
      const local: Array<{ tensor: Float32Array; view: number }> = [];
      views.forEach((v, k) => {
        if (rows[i]![k] === undefined) local.push({ tensor: viewTensor(img, v, backbone), view: k });
      });
      for (const l of local) {
        tensors.push(l.tensor);
        slots.push({ image: i, view: l.view });
      }
    } catch (err) {
      results[i] = err instanceof Error ? err : new Error(String(err));
    }
  });
  if (tensors.length > 0) {
    const emb = await backbone.encodeImage(tensors, { batchSize: opts.batchSize });
    if (emb.length !== tensors.length) throw new RwdaError(`image encoder returned ${emb.length} embeddings for ${tensors.length} views`);
    const put: Array<{ sha256: string; viewId: string; embedding: Float32Array }> = [];
    slots.forEach((s, k) => {
      const e = Float32Array.from(emb[k]!);
      checkDim(e, dim, `${images[s.image]!.name} view ${ids[s.view]}`);
      rows[s.image]![s.view] = e;
      put.push({ sha256: shas[s.image]!, viewId: ids[s.view]!, embedding: e });
    });
    counts.encoded += put.length;
    opts.store?.putImages(fp, put);
  }
  images.forEach((im, i) => {
    if (results[i] !== undefined) return;
    const data = new Float32Array(ids.length * dim);
    rows[i]!.forEach((r, k) => {
      checkDim(r!, dim, `cache: ${im.name} view ${ids[k]}`);
      data.set(r!, k * dim);
    });
    counts.cached += fromStore[i]!;
    l2normalizeRows(data, dim);
    results[i] = { ids: [...ids], data, size: sizes[i] };
  });
  return { results, counts };
}
