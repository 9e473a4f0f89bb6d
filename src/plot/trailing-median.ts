import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * The smoothed curve `plot` draws: for each sample i, the median of the values of the samples
 * just before it (itself included) whose iteration is greater than `iters[i] - window`, scanning
 * back from i and stopping at the first one that is not. As `HistoryBuffer.median`, a window
 * holding a NaN gives NaN, and an even count gives the mean of the two middle values.
 *
 * The window slides: it is kept sorted, each sample is put in and taken out once by binary
 * search and a typed-array shift, and its middle is read off, with no allocation per point. That
 * is O(n · w) element moves for windows of w samples, but w is about the smoothing window (20
 * iterations by default) and a shift is one memmove, so it is linear in practice.
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
  // The non-NaN values of the window, ascending; NaNs are only counted.
  let sorted = new Float64Array(64);
  let size = 0;
  let nans = 0;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nans++;
    else {
      if (size === sorted.length) {
        const grown = new Float64Array(sorted.length * 2);
        grown.set(sorted);
        sorted = grown;
      }
      const at = firstAbove(sorted, size, v);
      sorted.copyWithin(at + 1, at, size);
      sorted[at] = v;
      size++;
    }
    const lo = iters[i]! - window;
    for (; iters[start]! <= lo; start++) {
      const old = values[start]!;
      if (Number.isNaN(old)) nans--;
      else {
        // Any slot holding an equal value will do: equal values are interchangeable.
        const at = firstAbove(sorted, size, old) - 1;
        sorted.copyWithin(at, at + 1, size);
        size--;
      }
    }
    if (nans > 0) out[i] = NaN;
    else out[i] = size % 2 === 1 ? sorted[size >> 1]! : (sorted[(size >> 1) - 1]! + sorted[size >> 1]!) / 2;
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

/** The first index of `sorted[0, size)` whose value is greater than `x` (size when none). */
function firstAbove(sorted: Float64Array, size: number, x: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
