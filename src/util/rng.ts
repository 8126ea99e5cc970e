/**
 * Seeded pseudo-random numbers that give the same sequence on every machine, forever.
 *
 * Algorithm (fixed; changing it changes every stored expectation): the 32-bit seed is expanded into
 * 128 bits of state by a golden-ratio counter (+0x9e3779b9 per word) passed through MurmurHash3's
 * 32-bit finaliser (fmix32), then xoshiro128** 1.1 (Blackman & Vigna) generates 32-bit outputs.
 * All arithmetic is on uint32 through Math.imul and >>> 0, so it is exact in JavaScript.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32-1], got ${seed}`);
    }
    let x = seed >>> 0;
    const splitmix = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix();
    this.s1 = splitmix();
    this.s2 = splitmix();
    this.s3 = splitmix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uniform uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3 >>> 0, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi] inclusive, without modulo bias (rejection sampling). */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new RangeError(`invalid integer range [${lo}, ${hi}]`);
    }
    const span = hi - lo + 1;
    if (span > 0x100000000) throw new RangeError('integer range wider than 2^32');
    if (span === 0x100000000) return lo + this.nextUint32();
    const limit = 0x100000000 - (0x100000000 % span);
    let r: number;
    do r = this.nextUint32();
    while (r >= limit);
    return lo + (r % span);
  }

  /** Standard normal deviate (Box–Muller on nextFloat; the spare value is kept). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles in place (Fisher–Yates, from the end) and returns the array. */
  shuffle<A extends unknown[] | Int32Array | Uint32Array>(arr: A): A {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }

  /** A child generator for an independent stream (e.g. one per component), derived from this one. */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
