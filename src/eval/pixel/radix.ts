/**
 * LSD radix sort of float64 keys (with an optional Uint32 payload), ascending. The scores of a few million pixels
 * sort 3–5× faster this way than with `Float64Array.prototype.sort`, and a payload can travel with its key, which the
 * native sort cannot do. A pass whose 16-bit digit is the same for every key is skipped, so float32 maps (low 29
 * mantissa bits zero) need 3 passes, not 4.
 */

/** In place: turns float64 bit patterns (lo, hi word pairs) into keys whose unsigned order is the numeric order. */
export function toSortableKeys(words: Uint32Array): void {
  for (let i = 0; i < words.length; i += 2) {
    const hi = words[i + 1]!;
    if (hi >= 0x80000000) {
      words[i] = ~words[i]!;
      words[i + 1] = ~hi;
    } else {
      words[i + 1] = hi | 0x80000000;
    }
  }
}

/**
 * Sorts `n` keys given as (lo, hi) word pairs in `keys` (length 2n), carrying `payload` (length n) along when given.
 * Returns the sorted arrays, which are either the inputs or the scratch buffers (both are overwritten).
 */
export function radixSortKeys(
  keys: Uint32Array,
  payload: Uint32Array | null,
): { keys: Uint32Array; payload: Uint32Array | null } {
  const n = keys.length >>> 1;
  if (n < 2) return { keys, payload };
  const hist = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    const lo = keys[2 * i]!;
    const hi = keys[2 * i + 1]!;
    hist[lo & 0xffff]!++;
    hist[65536 + (lo >>> 16)]!++;
    hist[131072 + (hi & 0xffff)]!++;
    hist[196608 + (hi >>> 16)]!++;
  }
  let src: Uint32Array = keys;
  let dst: Uint32Array = new Uint32Array(keys.length);
  let psrc: Uint32Array | null = payload;
  let pdst: Uint32Array | null = payload ? new Uint32Array(n) : null;
  for (let d = 0; d < 4; d++) {
    const base = d * 65536;
    const word = d >> 1; // 0 = lo, 1 = hi
    const shift = (d & 1) * 16;
    const first = (src[word]! >>> shift) & 0xffff;
    if (hist[base + first] === n) continue; // every key has this digit
    // Exclusive prefix sums turn counts into start offsets.
    let sum = 0;
    for (let b = 0; b < 65536; b++) {
      const c = hist[base + b]!;
      hist[base + b] = sum;
      sum += c;
    }
    if (psrc && pdst) {
      for (let i = 0; i < n; i++) {
        const w = src[2 * i + word]!;
        const pos = hist[base + ((w >>> shift) & 0xffff)]!++;
        dst[2 * pos] = src[2 * i]!;
        dst[2 * pos + 1] = src[2 * i + 1]!;
        pdst[pos] = psrc[i]!;
      }
      const t = psrc;
      psrc = pdst;
      pdst = t;
    } else {
      for (let i = 0; i < n; i++) {
        const w = src[2 * i + word]!;
        const pos = hist[base + ((w >>> shift) & 0xffff)]!++;
        dst[2 * pos] = src[2 * i]!;
        dst[2 * pos + 1] = src[2 * i + 1]!;
      }
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return { keys: src, payload: psrc };
}
