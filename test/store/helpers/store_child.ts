// Child process for the store tests (run as `node --import tsx store_child.ts <mode> <db> <fp>`).
//   write-loop: commits batches of BATCH text rows forever, printing each committed batch number.
//   hang-mid-batch: commits batch 0, then blocks inside the putTexts transaction of batch 1
//     (half of its rows already inserted), after printing "mid".
//   read-write: reads the parent's rows, writes its own, prints a JSON report.
import { EmbeddingStore } from '../../../src/store/index.ts';
import { BATCH, rowEmbedding } from './rows.ts';

const [mode, db, fp] = process.argv.slice(2);
if (mode === 'write-loop') {
  const store = EmbeddingStore.open(db!);
  const build = (b: number) => Array.from({ length: BATCH }, (_, r) => ({ text: `b${b}_r${r}`, embedding: rowEmbedding(b, r) }));
  // The next batch is built before the current one is reported, so a kill that follows a report
  // lands inside the next putTexts, not in row construction.
  let rows = build(0);
  for (let b = 0; ; b++) {
    store.putTexts(fp!, rows);
    rows = build(b + 1);
    process.stdout.write(`${b}\n`);
  }
} else if (mode === 'hang-mid-batch') {
  // The store encodes each row inside the transaction by reading embedding.byteLength, so this
  // row stops the writer exactly there, deterministically, with the earlier rows inserted.
  class Trap extends Float32Array {
    override get byteLength(): number {
      process.stdout.write('mid\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);
      return super.byteLength;
    }
  }
  const store = EmbeddingStore.open(db!);
  const build = (b: number) => Array.from({ length: BATCH }, (_, r) => ({ text: `b${b}_r${r}`, embedding: rowEmbedding(b, r) }));
  store.putTexts(fp!, build(0));
  const rows = build(1);
  const half = BATCH / 2;
  rows[half] = { text: rows[half]!.text, embedding: new Trap(rows[half]!.embedding) };
  store.putTexts(fp!, rows);
  process.stdout.write('finished\n');
} else if (mode === 'read-write') {
  const store = EmbeddingStore.open(db!);
  const got = store.getTexts(fp!, ['parent_0', 'parent_1', 'missing']);
  store.putTexts(fp!, [
    { text: 'child_0', embedding: Float32Array.from([7, 8, 9]) },
    { text: 'child_1', embedding: Float32Array.from([-1, 0.5]) },
  ]);
  store.close();
  process.stdout.write(JSON.stringify(got.map((v) => (v === undefined ? null : Array.from(v)))) + '\n');
}
