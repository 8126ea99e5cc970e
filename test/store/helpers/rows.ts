// Rows shared by the store tests and their child process.

// Big enough that one putTexts takes many milliseconds, so a SIGKILL lands mid-transaction.
export const BATCH = 400;
export const DIM = 256;

/** The deterministic embedding of row r of batch b. */
export function rowEmbedding(b: number, r: number): Float32Array {
  return Float32Array.from({ length: DIM }, (_, j) => b * 1000 + r + j / 1024);
}
