/**
 * open_clip's `SimpleTokenizer` (v2.23.0) and `tokenize()`: clean, split, byte-level BPE,
 * `[SOT] + tokens + [EOT]` cut to the context length with EOT forced last, zero padding.
 */
import { RwdaError } from '../../errors.ts';
import { BytePairEncoder, CHAR_TO_BYTE } from './bpe.ts';
import { cleanText } from './clean.ts';
import { EOT_TEXT, SOT_TEXT, loadBpeGz, loadHfFiles, loadVocabFromDir, type Vocab } from './vocab.ts';

/** open_clip's default (and every CLIP model's) context length. */
export const CONTEXT_LENGTH = 77;

/**
 * open_clip's split pattern. It is compiled with IGNORECASE, but the text is already lower-case,
 * so the only case variant left to match is `ſ` (U+017F), which case-folds to `s`. It is spelled
 * out instead of using JS's `i` flag, because `i` would also widen `\p{L}` (e.g. U+0345), which
 * the `regex` module does not do. `\s` there is Unicode White_Space.
 */
const SPLIT =
  /<[sſ]tart_of_text>|<end_of_text>|'[sſ]|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/gu;

/** The BPE cache only saves time; it is cleared when it grows past this many words. */
const MAX_CACHE_WORDS = 200_000;

/** Options of the ClipTokenizer factories. */
export interface ClipTokenizerOptions {
  /** Apply the ftfy subset first, as open_clip does (default true). */
  fixText?: boolean;
}

/** A batch of tokenized texts: `count` rows of `contextLength` ids, row-major. */
export interface TokenBatch {
  readonly ids: Int32Array;
  readonly count: number;
  readonly contextLength: number;
  /** Per row, the position the text tower pools at: `argmax(ids)`, i.e. the first EOT. */
  readonly eotIndex: Int32Array;
}

/** CLIP's BPE tokenizer, id-for-id identical to open_clip's `tokenize()`. */
export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  readonly vocabSize: number;
  /** The vocabulary file(s) this was loaded from. */
  readonly source: string;
  private readonly bpe: BytePairEncoder;
  private readonly decoder: string[];
  private readonly fixText: boolean;
  private readonly cache = new Map<string, readonly number[]>();

  /** Builds a tokenizer from an already loaded vocabulary. */
  constructor(vocab: Vocab, options: ClipTokenizerOptions = {}) {
    this.sotId = vocab.sotId;
    this.eotId = vocab.eotId;
    this.source = vocab.source;
    this.fixText = options.fixText ?? true;
    this.bpe = new BytePairEncoder(vocab.merges, vocab.encoder);
    let maxId = -1;
    for (const id of vocab.encoder.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.decoder = new Array<string>(this.vocabSize);
    for (const [token, id] of vocab.encoder) this.decoder[id] = token;
    // Decode the specials under open_clip's names whichever file layout they came from.
    this.decoder[this.sotId] = SOT_TEXT;
    this.decoder[this.eotId] = EOT_TEXT;
  }

  /** Loads open_clip's `bpe_simple_vocab_16e6.txt.gz`. */
  static fromBpeGz(path: string, options?: ClipTokenizerOptions): ClipTokenizer {
    return new ClipTokenizer(loadBpeGz(path), options);
  }

  /** Loads a Hugging Face `vocab.json` + `merges.txt` pair. */
  static fromHfFiles(vocabJson: string, mergesTxt: string, options?: ClipTokenizerOptions): ClipTokenizer {
    return new ClipTokenizer(loadHfFiles(vocabJson, mergesTxt), options);
  }

  /** Loads `vocab.json` + `merges.txt` (preferred) or `bpe_simple_vocab_16e6.txt.gz` from a model directory. */
  static fromModelDir(dir: string, options?: ClipTokenizerOptions): ClipTokenizer {
    return new ClipTokenizer(loadVocabFromDir(dir), options);
  }

  /** The cleaned text open_clip splits (ftfy subset, unescape ×2, whitespace, lower-case). */
  clean(text: string): string {
    return cleanText(text, { fixText: this.fixText });
  }

  /** BPE ids of `text` without SOT/EOT (open_clip `SimpleTokenizer.encode`). */
  encode(text: string): number[] {
    return this.encodeUpTo(text, Infinity);
  }

  /** Encodes until at least `limit` ids exist; ids past a truncation point are never used. */
  private encodeUpTo(text: string, limit: number): number[] {
    const ids: number[] = [];
    for (const m of this.clean(text).matchAll(SPLIT)) {
      for (const id of this.wordIds(m[0])) ids.push(id);
      if (ids.length >= limit) break;
    }
    return ids;
  }

  private wordIds(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    // open_clip seeds its BPE cache with the special names, so only these exact words map to them.
    const ids = word === SOT_TEXT ? [this.sotId] : word === EOT_TEXT ? [this.eotId] : this.bpe.encodeWord(word);
    if (this.cache.size >= MAX_CACHE_WORDS) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }

  /** One text as open_clip's `tokenize(text)[0]`: `contextLength` ids. */
  tokenizeOne(text: string, contextLength = CONTEXT_LENGTH): Int32Array {
    const row = new Int32Array(checkContextLength(contextLength));
    this.fillRow(text, row);
    return row;
  }

  /** Many texts as open_clip's `tokenize(texts)`, flattened to one row-major Int32Array. */
  tokenize(texts: readonly string[], contextLength = CONTEXT_LENGTH): TokenBatch {
    const n = checkContextLength(contextLength);
    const ids = new Int32Array(texts.length * n);
    const eotIndex = new Int32Array(texts.length);
    texts.forEach((text, i) => {
      const row = ids.subarray(i * n, (i + 1) * n);
      this.fillRow(text, row);
      eotIndex[i] = argmax(row);
    });
    return { ids, count: texts.length, contextLength: n, eotIndex };
  }

  private fillRow(text: string, row: Int32Array): void {
    const n = row.length;
    const content = this.encodeUpTo(text, n);
    const tokens = [this.sotId, ...content.slice(0, n), this.eotId];
    if (tokens.length > n) {
      tokens.length = n;
      tokens[n - 1] = this.eotId;
    }
    row.set(tokens);
  }

  /** open_clip's `decode`: ids → text, `</w>` → ' ', invalid UTF-8 → U+FFFD. Padding zeros decode as '!'. */
  decode(ids: Iterable<number>): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const token = Number.isInteger(id) ? this.decoder[id] : undefined;
      if (token === undefined) throw new RwdaError(`token id ${id} is not in the vocabulary (0..${this.vocabSize - 1})`);
      for (const ch of token) {
        const b = CHAR_TO_BYTE.get(ch);
        if (b === undefined) throw new RwdaError(`${this.source}: token ${JSON.stringify(token)} (id ${id}) is not byte-level`);
        bytes.push(b);
      }
    }
    // ignoreBOM keeps a leading U+FEFF, as Python's codec does.
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes)).replaceAll('</w>', ' ');
  }
}

/** First index of the largest id, as torch/ONNX `argmax` returns it. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

function checkContextLength(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RwdaError(`context length must be a positive integer, got ${n}`);
  return n;
}
