/** The on-disk cache: embeddings, run results and the detector index. */
export {
  CACHE_FILE,
  DEFAULT_BUSY_TIMEOUT_MS,
  EmbeddingStore,
  type DetectorEntry,
  type ImageKey,
  type ImageRow,
  type ResultEntry,
  type StoreCounters,
  type GridRow,
  type StoreOptions,
  type TextRow,
} from './store.ts';
export { sha256Bytes, sha256File } from './hash.ts';
export { APPLICATION_ID, SCHEMA_VERSION } from './schema.ts';
