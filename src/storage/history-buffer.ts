import { EmptyHistoryError } from './errors.js';
import { CHUNK, chunksOfBlocks, copyNewest, write, type Chunk, type SampleBlock, type Writing } from './history-chunks.js';

/**
 * Samples per block of `HistoryBuffer.fromBlocks`: block b holds the samples appended as the
 * (b·SIZE)-th to the ((b+1)·SIZE − 1)-th, counting from the first ever appended.
 */
export const HISTORY_BLOCK_SIZE = CHUNK;

/** The chunks of every empty history: appends copy a chunk list before adding to it. */
const NO_CHUNKS: readonly Chunk[] = Object.freeze([]);

// `append` is `appendAll` of one sample: one implementation of the append protocol.
const ONE_VALUE = new Float64Array(1);
const ONE_ITER = new Float64Array(1);

/**
 * The samples of one metric: a persistent (immutable) append-only series with fvcore's
 * HistoryBuffer semantics — `latest`, `median(w)`, `avg(w)` over the last w samples, `globalAvg`
 * over everything ever added (also what `maxLength` evicted), `values()`.
 *
 * `append` returns a new buffer and never copies the history: samples live in shared fixed-size
 * typed-array chunks and a buffer is a view (start, end) over them. A chunk slot is written only
 * by the first buffer to reach it (`filled` tracks that); an older version that appends again
 * (a branch, e.g. after a resume rewound the timeline) copies just the tail chunk. So every
 * version stays valid, appends are O(1), and a sample costs 12 bytes.
 *
 * @example
 * ```ts
 * let h = HistoryBuffer.empty();
 * h = h.append(0.5, 0).append(0.3, 1);
 * h.median(2); // 0.4
 * ```
 */
export class HistoryBuffer {
  readonly maxLength: number;
  readonly #chunks: readonly Chunk[];
  /** Absolute index of the first chunk's slot 0. */
  readonly #base: number;
  /** Absolute index of the oldest retained sample. */
  readonly #start: number;
  /** Absolute index one past the newest sample. */
  readonly #end: number;
  readonly #count: number;
  readonly #globalAvg: number;

  private constructor(maxLength: number, chunks: readonly Chunk[], base: number, start: number, end: number, count: number, globalAvg: number) {
    this.maxLength = maxLength;
    this.#chunks = chunks;
    this.#base = base;
    this.#start = start;
    this.#end = end;
    this.#count = count;
    this.#globalAvg = globalAvg;
  }

  /** An empty history keeping at most `maxLength` samples (fvcore's default: 1,000,000). */
  static empty(maxLength = 1_000_000): HistoryBuffer {
    return new HistoryBuffer(maxLength, NO_CHUNKS, 0, 0, 0, 0, 0);
  }

  /** Samples retained. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Samples ever appended, evicted ones included. */
  get count(): number {
    return this.#count;
  }

  /** Mean of every sample ever appended, as a running mean (like fvcore). */
  get globalAvg(): number {
    return this.#globalAvg;
  }

  /**
   * A new history with one more sample.
   *
   * @example
   * ```ts
   * const h2 = h.append(1.5, 42);
   * ```
   */
  append(value: number, iter: number): HistoryBuffer {
    ONE_VALUE[0] = value;
    ONE_ITER[0] = iter;
    return this.appendAll(ONE_VALUE, ONE_ITER, 1);
  }

  /**
   * A new history with the first `n` of `values`/`iters` appended, in order: the same result as
   * `n` calls of `append`, but one new buffer instead of `n` (the reducer folds a batch of
   * samples per metric this way), and the samples are copied chunk by chunk.
   *
   * @example
   * ```ts
   * const h2 = h.appendAll([0.5, 0.4], [10, 11]);
   * ```
   */
  appendAll(values: ArrayLike<number>, iters: ArrayLike<number>, n = values.length): HistoryBuffer {
    if (n <= 0) return this;
    if (iters.length < n || values.length < n) {
      throw new RangeError(`appendAll: ${n} samples asked, but only ${Math.min(values.length, iters.length)} given`);
    }
    // The first sample retained once these are in: samples before it are never written.
    const liveFrom = Math.max(this.#start, this.#end + n - this.maxLength);
    const w: Writing = { chunks: this.#chunks as Chunk[], own: false, base: this.#base, end: this.#end };
    let first = 0;
    if (liveFrom > w.end) {
      // This call alone evicts everything held before and its own first samples: start over
      // in the block of the first retained sample (absolute indices, so blocks stay aligned).
      first = liveFrom - w.end;
      w.base += Math.floor((liveFrom - w.base) / CHUNK) * CHUNK;
      w.chunks = [];
      w.own = true;
      w.end = liveFrom;
    }
    write(w, values, iters, first, n, liveFrom, this.maxLength, n - first);
    let count = this.#count;
    let globalAvg = this.#globalAvg;
    for (let i = 0; i < n; i++) {
      // A running mean, like fvcore's: it stays finite where a sum would overflow.
      globalAvg += (values[i]! - globalAvg) / ++count;
    }
    return HistoryBuffer.#trimmed(this.maxLength, w.chunks, w.base, liveFrom, w.end, count, globalAvg);
  }

  /** A buffer over `chunks` from `start`, without the chunks wholly before it (O(1) amortized). */
  static #trimmed(maxLength: number, chunks: readonly Chunk[], base: number, start: number, end: number, count: number, globalAvg: number): HistoryBuffer {
    const dead = Math.floor((start - base) / CHUNK);
    if (dead > 0) {
      chunks = chunks.slice(dead);
      base += dead * CHUNK;
    }
    return new HistoryBuffer(maxLength, chunks, base, start, end, count, globalAvg);
  }

  /**
   * The same samples, keeping at most `maxLength` from now on (fewer right away if it is
   * smaller than `length`). Samples already evicted stay evicted.
   *
   * @example
   * ```ts
   * const h2 = h.withMaxLength(1000);
   * ```
   */
  withMaxLength(maxLength: number): HistoryBuffer {
    if (maxLength === this.maxLength) return this;
    const start = Math.max(this.#start, this.#end - maxLength);
    return HistoryBuffer.#trimmed(maxLength, this.#chunks, this.#base, start, this.#end, this.#count, this.#globalAvg);
  }

  /**
   * Bytes of sample storage this history's chunks hold (shared with the versions that hold the
   * same chunks): 12 a slot, spare slots included.
   */
  get byteLength(): number {
    let n = 0;
    for (const c of this.#chunks) n += c.cap * (Float64Array.BYTES_PER_ELEMENT + Uint32Array.BYTES_PER_ELEMENT);
    return n;
  }

  #valueAt(abs: number): number {
    const off = abs - this.#base;
    const c = this.#chunks[(off / CHUNK) | 0]!;
    return c.values[(off % CHUNK) + c.shift]!;
  }

  #iterAt(abs: number): number {
    const off = abs - this.#base;
    const c = this.#chunks[(off / CHUNK) | 0]!;
    return c.iters[(off % CHUNK) + c.shift]!;
  }

  /** Iteration of the newest sample, -1 when empty: `latest()[1]` without making a tuple. */
  get latestIter(): number {
    return this.#end === this.#start ? -1 : this.#iterAt(this.#end - 1);
  }

  /** The newest sample as `[value, iter]`. */
  latest(): readonly [value: number, iter: number] {
    if (this.#end === this.#start) throw new EmptyHistoryError('latest()');
    return [this.#valueAt(this.#end - 1), this.#iterAt(this.#end - 1)];
  }

  /** The last `window` values (fewer if the history is shorter), oldest first. */
  tail(window: number): Float64Array {
    const n = Math.max(0, Math.min(Math.floor(window), this.length));
    const out = new Float64Array(n);
    copyNewest(this.#chunks, this.#base, this.#end, n, out, null);
    return out;
  }

  /**
   * Median of the last `window` values; NaN if any of them is NaN (as numpy's median).
   *
   * @example
   * ```ts
   * h.median(20);
   * ```
   */
  median(window: number): number {
    const v = this.tail(window);
    if (v.length === 0) throw new EmptyHistoryError(`median(${window})`);
    v.sort(); // typed-array sort is numeric and puts NaN last
    if (Number.isNaN(v[v.length - 1]!)) return NaN;
    const mid = v.length >> 1;
    return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  }

  /** Mean of the last `window` values. */
  avg(window: number): number {
    const v = this.tail(window);
    if (v.length === 0) throw new EmptyHistoryError(`avg(${window})`);
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i]!;
    return s / v.length;
  }

  /** How many trailing samples have `iter > latestIter - window` (detectron2's count_samples). */
  countSince(window: number): number {
    if (this.#end === this.#start) return 0;
    const limit = this.#iterAt(this.#end - 1) - window;
    let n = 0;
    for (let at = this.#end - 1; at >= this.#start && this.#iterAt(at) > limit; at--) n++;
    return n;
  }

  /** Every retained sample as `[value, iter]`, oldest first. */
  values(): Array<readonly [value: number, iter: number]> {
    const { values, iters } = this.columns();
    const out: Array<readonly [number, number]> = new Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = [values[i]!, iters[i]!];
    return out;
  }

  /**
   * Retained samples as parallel typed arrays (copies), oldest first; with `last`, only the
   * newest `last` of them (a snapshot stores what was appended since its parent this way,
   * without copying the whole history each time).
   *
   * @example
   * ```ts
   * const { values, iters } = h.columns();
   * const fresh = h.columns(100); // the newest 100 samples
   * ```
   */
  columns(last?: number): { readonly values: Float64Array; readonly iters: Uint32Array } {
    const n = last === undefined ? this.length : Math.max(0, Math.min(Math.floor(last), this.length));
    const values = new Float64Array(n);
    const iters = new Uint32Array(n);
    copyNewest(this.#chunks, this.#base, this.#end, n, values, iters);
    return { values, iters };
  }

  /**
   * `columns(n)` copied into the start of `values` and `iters` (each at least `n` long), for a
   * reader that reads a few samples often (a writer) and reuses its arrays.
   * @example
   * ```ts
   * const values = new Float64Array(64), iters = new Uint32Array(64);
   * h.columnsInto(20, values, iters); // the newest 20 samples in values[0..20)
   * ```
   */
  columnsInto(n: number, values: Float64Array, iters: Uint32Array): void {
    const fits = n >= 0 && n <= this.length && n <= values.length && n <= iters.length;
    if (!fits) throw new RangeError(`columnsInto: ${n} samples asked of a history of ${this.length}, into arrays of ${values.length}/${iters.length}`);
    copyNewest(this.#chunks, this.#base, this.#end, n, values, iters);
  }

  /**
   * A history holding the given samples, as if appended one by one (used to load snapshots).
   *
   * @example
   * ```ts
   * const h = HistoryBuffer.from(values, iters, { count, globalAvg });
   * ```
   */
  static from(
    values: Float64Array,
    iters: Uint32Array,
    stats: { readonly maxLength?: number; readonly count?: number; readonly globalAvg?: number } = {},
  ): HistoryBuffer {
    return HistoryBuffer.fromParts([{ values, iters }], stats);
  }

  /**
   * `from` of the concatenation of `parts`, without concatenating them first: each sample is
   * copied once, straight into the history's chunks (a snapshot is a chain of such parts).
   *
   * @example
   * ```ts
   * const h = HistoryBuffer.fromParts([older, newer], { maxLength, count, globalAvg });
   * ```
   */
  static fromParts(
    parts: ReadonlyArray<{ readonly values: Float64Array; readonly iters: Uint32Array }>,
    stats: { readonly maxLength?: number; readonly count?: number; readonly globalAvg?: number } = {},
  ): HistoryBuffer {
    const maxLength = stats.maxLength ?? 1_000_000;
    let total = 0;
    for (const p of parts) {
      if (p.iters.length !== p.values.length) throw new RangeError(`fromParts: ${p.values.length} values but ${p.iters.length} iterations`);
      total += p.values.length;
    }
    const n = Math.min(total, maxLength);
    // Samples before `skip` (in concatenation order) are past maxLength: not retained.
    let skip = total - n;
    const w: Writing = { chunks: [], own: true, base: 0, end: 0 };
    for (const p of parts) {
      const i = Math.min(skip, p.values.length);
      skip -= i;
      write(w, p.values, p.iters, i, p.values.length, 0, maxLength, n - w.end);
    }
    let globalAvg = stats.globalAvg;
    if (globalAvg === undefined) {
      globalAvg = 0;
      let k = 0;
      for (const p of parts) for (let i = 0; i < p.values.length; i++) globalAvg += (p.values[i]! - globalAvg) / ++k;
    }
    return new HistoryBuffer(maxLength, w.chunks, 0, 0, n, stats.count ?? total, globalAvg);
  }

  /**
   * A history of `stats.count` samples ever appended, retaining the last `min(count, maxLength)`,
   * from whole blocks of `HISTORY_BLOCK_SIZE` samples (see there), `blocks[k]` being block
   * `firstBlock + k` and holding its samples from offset `lo` on. A block that holds all its
   * samples in arrays of exactly the block size is adopted as the history's storage, not copied
   * (a snapshot cache hands over freshly read arrays); others are copied. Throws RangeError when
   * the blocks do not cover the retained samples.
   *
   * @example
   * ```ts
   * const h = HistoryBuffer.fromBlocks(0, [{ lo: 0, values, iters }], { count: values.length });
   * ```
   */
  static fromBlocks(
    firstBlock: number,
    blocks: readonly SampleBlock[],
    stats: { readonly maxLength?: number; readonly count: number; readonly globalAvg: number },
  ): HistoryBuffer {
    const maxLength = stats.maxLength ?? 1_000_000;
    const end = stats.count;
    const start = end - Math.min(end, maxLength);
    const base = firstBlock * CHUNK;
    const chunks = chunksOfBlocks(firstBlock, blocks, start, end);
    return new HistoryBuffer(maxLength, chunks, end > start ? base : end, start, end, stats.count, stats.globalAvg);
  }
}
