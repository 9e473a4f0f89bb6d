import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * The smoothed curve `plot` draws: for each sample i, the median of the values of the samples
 * just before it (itself included) whose iteration is greater than `iters[i] - window`, scanning
 * back from i and stopping at the first one that is not. As `HistoryBuffer.median`, a window
 * holding a NaN gives NaN, and an even count gives the mean of the two middle values.
 *
 * Runs in O(n log n): values are ranked once, and the window is a Fenwick tree of counts over
 * the ranks, so adding, removing and finding the middle are O(log n) whatever the window size.
 * When iterations go backwards somewhere (a log not written by a trainer) the window is no
 * longer a sliding one, and each point's window is sorted on its own instead.
 *
 * @throws InvalidArgumentError when `window` is not positive.
 * @example
 * ```ts
 * trailingMedian(new Uint32Array([0, 1, 2]), new Float64Array([3, 1, 2]), 2); // [3, 2, 1.5]
 * ```
 */
export function trailingMedian(iters: ArrayLike<number>, values: ArrayLike<number>, window: number): Float64Array {
  // A window of 0 iterations would hold no sample, not even the point's own.
  if (!(window > 0)) throw new InvalidArgumentError(`window is ${window}; expected a positive number of iterations`);
  const n = values.length;
  for (let i = 1; i < n; i++) if (iters[i]! < iters[i - 1]!) return windowBySort(iters, values, window);
  const out = new Float64Array(n);
  if (n === 0) return out;
  // Every non-NaN value in ascending order; a value's rank is its first position here.
  const sorted = Float64Array.from(values).sort();
  let size = n;
  while (size > 0 && Number.isNaN(sorted[size - 1]!)) size--;
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) rank[i] = Number.isNaN(values[i]!) ? -1 : lowerBound(sorted, size, values[i]!);
  const counts = new FenwickCounts(size);
  let start = 0;
  let nans = 0;
  for (let i = 0; i < n; i++) {
    if (rank[i]! < 0) nans++;
    else counts.add(rank[i]!, 1);
    const lo = iters[i]! - window;
    for (; iters[start]! <= lo; start++) {
      if (rank[start]! < 0) nans--;
      else counts.add(rank[start]!, -1);
    }
    if (nans > 0) {
      out[i] = NaN;
      continue;
    }
    const m = i - start + 1;
    const upper = sorted[counts.kth((m >> 1) + 1)]!;
    out[i] = m % 2 === 1 ? upper : (sorted[counts.kth(m >> 1)]! + upper) / 2;
  }
  return out;
}

function windowBySort(iters: ArrayLike<number>, values: ArrayLike<number>, window: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const lo = iters[i]! - window;
    let j = i;
    while (j > 0 && iters[j - 1]! > lo) j--;
    const win = new Float64Array(i - j + 1);
    for (let k = j; k <= i; k++) win[k - j] = values[k]!;
    win.sort(); // NaN last
    const m = win.length;
    out[i] = Number.isNaN(win[m - 1]!) ? NaN : m % 2 === 1 ? win[m >> 1]! : (win[(m >> 1) - 1]! + win[m >> 1]!) / 2;
  }
  return out;
}

function lowerBound(sorted: Float64Array, size: number, x: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts per rank, with prefix sums and "position of the k-th smallest" in O(log n). */
class FenwickCounts {
  readonly #tree: Int32Array;
  readonly #top: number;

  constructor(size: number) {
    this.#tree = new Int32Array(size + 1);
    let top = 1;
    while (top * 2 <= size) top *= 2;
    this.#top = size > 0 ? top : 0;
  }

  add(at: number, delta: number): void {
    for (let i = at + 1; i < this.#tree.length; i += i & -i) this.#tree[i]! += delta;
  }

  /** The rank holding the k-th smallest counted value (k from 1). */
  kth(k: number): number {
    let pos = 0;
    for (let step = this.#top; step > 0; step >>= 1) {
      const next = pos + step;
      if (next < this.#tree.length && this.#tree[next]! < k) {
        pos = next;
        k -= this.#tree[next]!;
      }
    }
    return pos;
  }
}
