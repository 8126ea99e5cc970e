/**
 * CLIP's byte-level BPE (open_clip `SimpleTokenizer.bpe`): GPT-2 byte↔unicode table,
 * `</w>` marking the end of a word, greedy lowest-rank merges.
 */

/**
 * GPT-2's `bytes_to_unicode()` in its dict order: the printable bytes first (as themselves),
 * then the other 68 bytes mapped to U+0100 onwards. This order is the order of ids 0–255.
 */
export const BYTE_UNICODE_ORDER: readonly (readonly [number, string])[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const pairs: [number, string][] = bs.map((b) => [b, String.fromCharCode(b)]);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) pairs.push([b, String.fromCharCode(256 + n++)]);
  }
  return pairs;
})();

/** Byte-level character → the byte it stands for (for decoding). */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_UNICODE_ORDER.map(([b, c]) => [c, b]));

export const END_OF_WORD = '</w>';

/** UTF-8 bytes of a word into `out` (reused between calls); returns the byte count. */
function utf8Bytes(word: string, out: number[]): number {
  let n = 0;
  for (let i = 0; i < word.length; i++) {
    let cp = word.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < word.length) {
      const lo = word.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    // A lone surrogate (impossible after fix_text) is written as U+FFFD, like TextEncoder.
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) {
      out[n++] = cp;
    } else if (cp < 0x800) {
      out[n++] = 0xc0 | (cp >> 6);
      out[n++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[n++] = 0xe0 | (cp >> 12);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    } else {
      out[n++] = 0xf0 | (cp >> 18);
      out[n++] = 0x80 | ((cp >> 12) & 0x3f);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    }
  }
  return n;
}

/** Ids are below 2^16, so a pair of ids packs into one exact number key. */
const ID_SPACE = 0x10000;

/**
 * open_clip's `bpe()` over token ids instead of strings (same result, no string building):
 * a word's UTF-8 bytes become byte-symbol ids, the last one in its `</w>` form; then every
 * non-overlapping occurrence (left to right) of the adjacent pair with the lowest merge rank is
 * merged, until no adjacent pair has a rank.
 */
export class BytePairEncoder {
  private readonly byteIds = new Int32Array(256);
  private readonly byteEowIds = new Int32Array(256);
  /** (first id, second id) → rank * 2^16 + merged id, so comparing values compares ranks. */
  private readonly pairs = new Map<number, number>();
  private readonly bytes: number[] = [];

  /** `merges` in rank order; `encoder` maps every symbol (byte, `</w>` form, merge result) to its id. */
  constructor(merges: readonly (readonly [string, string])[], encoder: ReadonlyMap<string, number>) {
    for (const [b, c] of BYTE_UNICODE_ORDER) {
      this.byteIds[b] = encoder.get(c)!;
      this.byteEowIds[b] = encoder.get(c + END_OF_WORD)!;
    }
    merges.forEach(([a, b], rank) => {
      const first = encoder.get(a);
      const second = encoder.get(b);
      const merged = encoder.get(a + b);
      // A merge whose halves are not tokens can never fire on token symbols, as in open_clip.
      if (first === undefined || second === undefined || merged === undefined) return;
      const key = first * ID_SPACE + second;
      // dict(zip(merges, range)): a repeated merge keeps its last rank.
      this.pairs.set(key, rank * ID_SPACE + merged);
    });
  }

  /** Token ids of one pre-split word (a non-empty string). */
  encodeWord(word: string): number[] {
    const n = utf8Bytes(word, this.bytes);
    const ids = new Array<number>(n);
    for (let i = 0; i < n - 1; i++) ids[i] = this.byteIds[this.bytes[i]!]!;
    ids[n - 1] = this.byteEowIds[this.bytes[n - 1]!]!;
    let len = n;
    while (len > 1) {
      let best = Infinity;
      let first = -1;
      let second = -1;
      for (let i = 0; i + 1 < len; i++) {
        const v = this.pairs.get(ids[i]! * ID_SPACE + ids[i + 1]!);
        if (v !== undefined && v < best) {
          best = v;
          first = ids[i]!;
          second = ids[i + 1]!;
        }
      }
      if (best === Infinity) break;
      const merged = best % ID_SPACE;
      let j = 0;
      for (let i = 0; i < len; ) {
        if (i + 1 < len && ids[i] === first && ids[i + 1] === second) {
          ids[j++] = merged;
          i += 2;
        } else {
          ids[j++] = ids[i++]!;
        }
      }
      len = j;
    }
    ids.length = len;
    return ids;
  }
}
