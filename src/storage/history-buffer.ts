import { TrainledgerError } from '../errors/trainledger-error.js';

// 4096 samples a chunk: 48 KiB of typed arrays, so per-chunk overhead is noise next to the 12 bytes
// a sample costs (f64 value + u32 iteration), and copying a tail chunk on a branch is cheap.
const CHUNK = 4096;

/** One block of samples. `filled` is shared by every buffer that holds this chunk. */
interface Chunk {
  readonly values: Float64Array;
  readonly iters: Uint32Array;
  filled: number;
}

/** A window was asked of an empty history. */
export class EmptyHistoryError extends TrainledgerError {
  constructor(what: string) {
    super('ERR_EMPTY_HISTORY', `${what}: the history has no samples`);
  }
}

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
    return new HistoryBuffer(maxLength, [], 0, 0, 0, 0, 0);
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
    let chunks = this.#chunks;
    let base = this.#base;
    const end = this.#end;
    const local = end - base - (chunks.length - 1) * CHUNK;
    let last = chunks[chunks.length - 1];
    if (last === undefined || local === CHUNK) {
      last = { values: new Float64Array(CHUNK), iters: new Uint32Array(CHUNK), filled: 0 };
      chunks = [...chunks, last];
      last.values[0] = value;
      last.iters[0] = iter;
      last.filled = 1;
    } else if (last.filled === local) {
      // Nobody has written past our end in this chunk: append in place, invisibly to older versions.
      last.values[local] = value;
      last.iters[local] = iter;
      last.filled = local + 1;
    } else {
      // A branch: another version already wrote here. Copy the tail chunk (bounded, CHUNK samples).
      const copy: Chunk = { values: last.values.slice(), iters: last.iters.slice(), filled: local + 1 };
      copy.values[local] = value;
      copy.iters[local] = iter;
      chunks = [...chunks.slice(0, -1), copy];
    }
    let start = this.#start;
    const newEnd = end + 1;
    if (newEnd - start > this.maxLength) {
      start = newEnd - this.maxLength;
      // Drop whole chunks that fell out of the window (O(1) amortized).
      const dead = Math.floor((start - base) / CHUNK);
      if (dead > 0) {
        chunks = chunks.slice(dead);
        base += dead * CHUNK;
      }
    }
    const count = this.#count + 1;
    const globalAvg = this.#globalAvg + (value - this.#globalAvg) / count;
    return new HistoryBuffer(this.maxLength, chunks, base, start, newEnd, count, globalAvg);
  }

  #valueAt(abs: number): number {
    const off = abs - this.#base;
    return this.#chunks[(off / CHUNK) | 0]!.values[off % CHUNK]!;
  }

  #iterAt(abs: number): number {
    const off = abs - this.#base;
    return this.#chunks[(off / CHUNK) | 0]!.iters[off % CHUNK]!;
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
    let at = this.#end - n;
    for (let i = 0; i < n; i++, at++) out[i] = this.#valueAt(at);
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
    const out: Array<readonly [number, number]> = new Array(this.length);
    for (let at = this.#start, i = 0; at < this.#end; at++, i++) out[i] = [this.#valueAt(at), this.#iterAt(at)];
    return out;
  }

  /** Retained samples as parallel typed arrays (copies). */
  columns(): { readonly values: Float64Array; readonly iters: Uint32Array } {
    const n = this.length;
    const values = new Float64Array(n);
    const iters = new Uint32Array(n);
    for (let at = this.#start, i = 0; at < this.#end; at++, i++) {
      values[i] = this.#valueAt(at);
      iters[i] = this.#iterAt(at);
    }
    return { values, iters };
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
    const maxLength = stats.maxLength ?? 1_000_000;
    const n = Math.min(values.length, maxLength);
    const off = values.length - n;
    const chunks: Chunk[] = [];
    for (let i = 0; i < n; i += CHUNK) {
      const m = Math.min(CHUNK, n - i);
      const c: Chunk = { values: new Float64Array(CHUNK), iters: new Uint32Array(CHUNK), filled: m };
      c.values.set(values.subarray(off + i, off + i + m));
      c.iters.set(iters.subarray(off + i, off + i + m));
      chunks.push(c);
    }
    let globalAvg = stats.globalAvg;
    if (globalAvg === undefined) {
      globalAvg = 0;
      for (let i = 0; i < values.length; i++) globalAvg += (values[i]! - globalAvg) / (i + 1);
    }
    return new HistoryBuffer(maxLength, chunks, 0, 0, n, stats.count ?? values.length, globalAvg);
  }
}
