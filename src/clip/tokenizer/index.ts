/** CLIP BPE tokenizer, id-for-id identical to open_clip's `tokenize()` (see README.md here). */
export { ClipTokenizer, CONTEXT_LENGTH, argmax, type ClipTokenizerOptions, type TokenBatch } from './tokenizer.ts';
export { cleanText, pyLower, pyStrip, type CleanOptions } from './clean.ts';
export { fixText } from './ftfy.ts';
export { htmlUnescape } from './html.ts';
export {
  BPE_GZ_NAME,
  EOT_TEXT,
  HF_MERGES_NAME,
  HF_VOCAB_NAME,
  SOT_TEXT,
  loadBpeGz,
  loadHfFiles,
  loadVocabFromDir,
  locateVocab,
  type Vocab,
} from './vocab.ts';
