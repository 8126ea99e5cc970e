/**
 * Window and patch embeddings of images through the backbone's window pass, cached in the store's
 * token_grids table (kinds "image", "patches", "windows:<s>") per (fingerprint, sha256). WinCLIP,
 * the reference memories of the few-shot forms and the anomaly maps all read them from here, so one
 * image's window pass (≈ 10× an image pass) runs once per backbone whatever uses it.
 */
import { RwdaError } from '../../errors.ts';
import { decodeImage, preprocessImage } from '../../clip/preprocess/index.ts';
import { sha256Bytes } from '../../store/hash.ts';
import type { EmbeddingStore } from '../../store/index.ts';
import { backboneName, type Backbone, type WindowOutputs } from './backbone.ts';
import type { ImageSource, ViewCounts } from './embed_cache.ts';

/** WindowOutputs of one image plus its size (when it was decoded). */
export interface WindowGrids extends WindowOutputs {
  sha256: string;
  size?: { width: number; height: number };
}

/** Options of embedImageWindows. */
export interface EmbedWindowsOptions {
  store?: EmbeddingStore;
  /** Window scales (WinCLIP: [2, 3]). */
  scales: readonly number[];
  maxPixels?: number;
  batchSize?: number;
}

function kinds(scales: readonly number[]): string[] {
  return ['image', 'patches', ...scales.map((s) => `windows:${s}`)];
}

/** True when the backbone can compute window embeddings. */
export function hasWindowPass(b: Backbone): b is Backbone & { encodeWindows: NonNullable<Backbone['encodeWindows']> } {
  return typeof b.encodeWindows === 'function';
}

/**
 * Window grids of several images: the store's where present, the rest encoded in one batched
 * window pass. A decode failure is returned for that image; encoder failures are thrown.
 */
export async function embedImageWindows(
  backbone: Backbone,
  images: readonly ImageSource[],
  opts: EmbedWindowsOptions,
): Promise<{ results: Array<WindowGrids | Error>; counts: ViewCounts }> {
  if (!hasWindowPass(backbone)) throw new RwdaError(`the backbone ${backboneName(backbone)} has no window pass (encodeWindows); WinCLIP and anomaly maps need one`, { code: 'unsupported' });
  const fp = backbone.fingerprint;
  const ks = kinds(opts.scales);
  const counts: ViewCounts = { encoded: 0, cached: 0 };
  const shas = images.map((im) => im.sha256 ?? sha256Bytes(im.bytes));
  const results: Array<WindowGrids | Error> = new Array(images.length);
  const missing: number[] = [];
  images.forEach((_, i) => {
    const got = opts.store?.getGrids(fp, ks.map((kind) => ({ sha256: shas[i]!, kind })));
    if (got !== undefined && got.every((g) => g !== undefined)) {
      const [image, patches, ...wins] = got as NonNullable<(typeof got)[number]>[];
      const windows: Record<number, Float32Array> = {};
      opts.scales.forEach((s, k) => (windows[s] = wins[k]!.data));
      const grid = Math.round(Math.sqrt(patches!.rows));
      results[i] = { sha256: shas[i]!, image: image!.data, patchTokens: patches!.data, windows, grid, width: patches!.data.length / patches!.rows, embedDim: image!.data.length };
      counts.cached++;
    } else missing.push(i);
  });
  const decoded = await Promise.allSettled(missing.map((i) => decodeImage(images[i]!.bytes, { name: images[i]!.name, maxPixels: opts.maxPixels })));
  const tensors: Float32Array[] = [];
  const slots: number[] = [];
  const sizes = new Map<number, { width: number; height: number }>();
  decoded.forEach((d, k) => {
    const i = missing[k]!;
    if (d.status === 'rejected') {
      results[i] = d.reason instanceof Error ? d.reason : new Error(String(d.reason));
      return;
    }
    try {
      tensors.push(preprocessImage(d.value, backbone.config.preprocess));
      slots.push(i);
      sizes.set(i, { width: d.value.width, height: d.value.height });
    } catch (err) {
      results[i] = err instanceof Error ? err : new Error(String(err));
    }
  });
  if (tensors.length > 0) {
    const outs = await backbone.encodeWindows(tensors, { scales: opts.scales, batchSize: opts.batchSize });
    if (outs.length !== tensors.length) throw new RwdaError(`window pass returned ${outs.length} results for ${tensors.length} images`);
    const put: Array<{ sha256: string; kind: string; rows: number; data: Float32Array }> = [];
    outs.forEach((o, k) => {
      const i = slots[k]!;
      for (const s of opts.scales) if (!(o.windows[s] instanceof Float32Array)) throw new RwdaError(`window pass returned no windows of scale ${s} for ${images[i]!.name}`);
      results[i] = { ...o, sha256: shas[i]!, size: sizes.get(i) };
      put.push({ sha256: shas[i]!, kind: 'image', rows: 1, data: o.image });
      put.push({ sha256: shas[i]!, kind: 'patches', rows: o.grid * o.grid, data: o.patchTokens });
      for (const s of opts.scales) put.push({ sha256: shas[i]!, kind: `windows:${s}`, rows: o.windows[s]!.length / o.embedDim, data: o.windows[s]! });
    });
    counts.encoded += outs.length;
    opts.store?.putGrids(fp, put);
  }
  return { results, counts };
}
