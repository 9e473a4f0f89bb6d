import { InvalidArgumentError } from '../errors/index.js';

const TWO_POW_32 = 0x1_0000_0000;

/**
 * Mulberry32, Tommy Ettinger's 32-bit-state generator: tiny, fast, full 2^32 period and good
 * enough statistics for shuffling data. Not cryptographic. Seeds are safe integers; 32-bit
 * seeds reproduce the reference implementation's stream, wider ones are hashed, not truncated.
 *
 * @example
 * ```ts
 * const rng = new Mulberry32(42);
 * rng.next();        // float in [0, 1)
 * rng.nextInt(10);   // integer in [0, 10)
 * ```
 */
export class Mulberry32 {
  #state: number;

  constructor(seed: number) {
    assertSeed(seed, 'seed');
    // 32-bit seeds give the reference mulberry32 stream; wider ones are hashed down.
    this.#state = seed >= -0x8000_0000 && seed < TWO_POW_32 ? seed | 0 : mixSeed(seed);
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Next float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /**
   * Uniform integer in [0, bound), `bound` in [1, 2^32]. Rejection sampling removes the
   * modulo bias so shuffles are exactly uniform for the generator.
   */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
      throw new InvalidArgumentError(`bound is ${bound}; expected an integer in [1, 2^32]`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % bound;
  }
}

/**
 * Hashes safe integers into one well-spread 32-bit seed (MurmurHash3's word mixing and
 * finalizer), so related inputs like (seed, epoch) and (seed, epoch + 1) give unrelated streams.
 *
 * @example
 * ```ts
 * const rng = new Mulberry32(mixSeed(runSeed, epoch));
 * ```
 */
export function mixSeed(...values: number[]): number {
  let h = 0x9747b28c;
  let words = 0;
  for (const [i, value] of values.entries()) {
    for (const word of seedWords(value, `value #${i}`)) {
      let k = Math.imul(word, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      words += 1;
    }
  }
  h ^= words * 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Fisher–Yates shuffle of `array` in place (uniform over permutations); returns `array`.
 *
 * @example
 * ```ts
 * const order = shuffleInPlace(Uint32Array.from([0, 1, 2, 3]), new Mulberry32(7));
 * ```
 */
export function shuffleInPlace<T extends { length: number; [index: number]: number }>(array: T, rng: Mulberry32): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    // 0 ≤ j ≤ i < length: both reads are in range.
    const tmp = array[i]!;
    array[i] = array[j]!;
    array[j] = tmp;
  }
  return array;
}

/**
 * A uniformly random permutation of 0..n-1.
 *
 * @example
 * ```ts
 * const order = permutation(10_000, new Mulberry32(mixSeed(seed, epoch)));
 * ```
 */
export function permutation(n: number, rng: Mulberry32): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new InvalidArgumentError(`permutation size is ${n}; expected an integer in [0, 2^32 - 1]`);
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, rng);
}

/**
 * Checks that `seed` is a safe integer (the accepted seed type) and returns it.
 *
 * @example
 * ```ts
 * const seed = assertSeed(options.seed ?? 0, 'options.seed');
 * ```
 */
export function assertSeed(seed: number, what: string): number {
  if (!Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError(`${what} is ${String(seed)}; expected a safe integer`);
  }
  return seed;
}

// Splits a safe integer into its low and high 32-bit words (two's complement for negatives).
function seedWords(value: number, what: string): [number, number] {
  assertSeed(value, what);
  return [value >>> 0, Math.floor(value / TWO_POW_32) >>> 0];
}
