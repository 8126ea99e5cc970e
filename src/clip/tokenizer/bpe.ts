/**
 * CLIP's byte-level BPE (open_clip `SimpleTokenizer.bpe`): GPT-2 byte↔unicode table,
 * `</w>` marking the end of a word, greedy lowest-rank merges, and a per-word cache.
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

/** Byte value → the printable character that stands for it. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table = new Array<string>(256);
  for (const [b, c] of BYTE_UNICODE_ORDER) table[b] = c;
  return table;
})();

/** Inverse of {@link BYTE_TO_CHAR}. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_UNICODE_ORDER.map(([b, c]) => [c, b]));

export const END_OF_WORD = '</w>';

/** A word's UTF-8 bytes written with {@link BYTE_TO_CHAR} (what open_clip feeds to `bpe`). */
export function byteEncode(word: string): string {
  let out = '';
  for (const ch of word) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out += BYTE_TO_CHAR[cp];
    } else if (cp < 0x800) {
      out += BYTE_TO_CHAR[0xc0 | (cp >> 6)]! + BYTE_TO_CHAR[0x80 | (cp & 0x3f)]!;
    } else if (cp < 0x10000) {
      // Lone surrogates (impossible after fix_text) encode as U+FFFD, like TextEncoder.
      const c = cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
      out += BYTE_TO_CHAR[0xe0 | (c >> 12)]! + BYTE_TO_CHAR[0x80 | ((c >> 6) & 0x3f)]! + BYTE_TO_CHAR[0x80 | (c & 0x3f)]!;
    } else {
      out +=
        BYTE_TO_CHAR[0xf0 | (cp >> 18)]! +
        BYTE_TO_CHAR[0x80 | ((cp >> 12) & 0x3f)]! +
        BYTE_TO_CHAR[0x80 | ((cp >> 6) & 0x3f)]! +
        BYTE_TO_CHAR[0x80 | (cp & 0x3f)]!;
    }
  }
  return out;
}

/** Pair key for the rank table; a space never occurs inside a byte-level symbol. */
export function pairKey(first: string, second: string): string {
  return first + ' ' + second;
}

/**
 * Splits one byte-encoded word into BPE symbols, exactly as open_clip: repeatedly merge every
 * non-overlapping occurrence (left to right) of the adjacent pair with the lowest rank.
 */
export function bpeSymbols(encoded: string, ranks: ReadonlyMap<string, number>): string[] {
  // Byte-level characters are all in the BMP, so UTF-16 indexing is per symbol.
  let word: string[] = encoded.split('');
  word[word.length - 1] += END_OF_WORD;
  while (word.length > 1) {
    let best = Infinity;
    let first = '';
    let second = '';
    for (let i = 0; i + 1 < word.length; i++) {
      const r = ranks.get(pairKey(word[i]!, word[i + 1]!));
      if (r !== undefined && r < best) {
        best = r;
        first = word[i]!;
        second = word[i + 1]!;
      }
    }
    if (best === Infinity) break;
    const merged: string[] = [];
    for (let i = 0; i < word.length; ) {
      if (i + 1 < word.length && word[i] === first && word[i + 1] === second) {
        merged.push(first + second);
        i += 2;
      } else {
        merged.push(word[i]!);
        i += 1;
      }
    }
    word = merged;
  }
  return word;
}
