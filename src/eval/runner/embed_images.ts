/**
 * The embedding phase of a run: every image's views through the vision tower, once per backbone.
 *
 * Images go in batches; each batch reads its files, looks every view up in the store by the
 * file's sha256 and the view id, decodes and encodes only the images with a view missing, and
 * writes the new embeddings in one transaction (embedImageViews) before the next batch starts. A
 * killed run therefore loses at most the batch in flight, and the rerun encodes only what is not
 * in the store. An image that cannot be read or decoded is skipped with the reason; the run goes on.
 */
import { readFile } from 'node:fs/promises';
import { RwdaError } from '../../errors.ts';
import type { DatasetItem } from '../../data/index.ts';
import type { Backbone } from '../../methods/common/backbone.ts';
import { embedImageViews, type ImageSource } from '../../methods/common/embed_cache.ts';
import { sha256Bytes, type EmbeddingStore } from '../../store/index.ts';
import type { SkippedEntry } from '../report/index.ts';

/** An image that was embedded, with the content hash its views are stored under. */
export interface EmbeddedItem extends DatasetItem {
  sha256: string;
}

/** Progress of one finished batch. */
export interface EmbedBatchInfo {
  /** 1-based batch number. */
  batch: number;
  batches: number;
  /** Images handled so far (embedded or skipped). */
  done: number;
  total: number;
  /** Views encoded / read from the store in this batch. */
  encoded: number;
  cached: number;
}

/** Options of embedItems. */
export interface EmbedItemsOptions {
  /** Grid scales; undefined = the standard view only. */
  scales?: readonly number[];
  /** Images per batch (one store transaction each; default 8). */
  batchSize?: number;
  /** Decoder pixel limit. */
  maxPixels?: number;
  /** Called after each batch is stored. */
  onBatch?: (info: EmbedBatchInfo) => void;
}

/** What the embedding phase leaves behind. */
export interface EmbedPhaseResult {
  /** The embedded images, in input order. */
  embedded: EmbeddedItem[];
  /** Images that could not be read or decoded. */
  skipped: SkippedEntry[];
  /** Views run through the vision tower / found in the store. */
  viewsEncoded: number;
  viewsCached: number;
}

/** Default images per batch. */
export const DEFAULT_IMAGE_BATCH = 8;

function readFailure(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : err instanceof Error ? err.message : String(err);
  return `cannot read ${path}: ${why}`;
}

/** Embeds every view of every item into the store (see the module comment); the store is required. */
export async function embedItems(
  backbone: Backbone,
  items: readonly DatasetItem[],
  store: EmbeddingStore,
  opts: EmbedItemsOptions = {},
): Promise<EmbedPhaseResult> {
  const batchSize = opts.batchSize ?? DEFAULT_IMAGE_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RwdaError(`image batch size must be a positive integer, got ${batchSize}`);
  const embedded: Array<EmbeddedItem | undefined> = new Array(items.length);
  const skipped: Array<SkippedEntry | undefined> = new Array(items.length);
  let viewsEncoded = 0;
  let viewsCached = 0;
  const batches = Math.ceil(items.length / batchSize);
  for (let b = 0; b < batches; b++) {
    const start = b * batchSize;
    const chunk = items.slice(start, start + batchSize);
    const read = await Promise.allSettled(chunk.map((it) => readFile(it.path)));
    const sources: ImageSource[] = [];
    const at: number[] = [];
    const shas: string[] = [];
    read.forEach((r, k) => {
      const it = chunk[k]!;
      if (r.status === 'rejected') {
        skipped[start + k] = { path: it.path, category: it.category, kind: 'read-error', reason: readFailure(it.path, r.reason) };
        return;
      }
      const sha256 = sha256Bytes(r.value);
      sources.push({ name: it.path, bytes: r.value, sha256 });
      shas.push(sha256);
      at.push(start + k);
    });
    const { results, counts } = await embedImageViews(backbone, sources, { store, scales: opts.scales, maxPixels: opts.maxPixels });
    results.forEach((r, k) => {
      const i = at[k]!;
      const it = items[i]!;
      if (r instanceof Error) skipped[i] = { path: it.path, category: it.category, kind: 'decode-error', reason: r.message };
      else embedded[i] = { ...it, sha256: shas[k]! };
    });
    viewsEncoded += counts.encoded;
    viewsCached += counts.cached;
    opts.onBatch?.({ batch: b + 1, batches, done: Math.min(start + batchSize, items.length), total: items.length, encoded: counts.encoded, cached: counts.cached });
  }
  return {
    embedded: embedded.filter((e): e is EmbeddedItem => e !== undefined),
    skipped: skipped.filter((s): s is SkippedEntry => s !== undefined),
    viewsEncoded,
    viewsCached,
  };
}
