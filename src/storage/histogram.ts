import { InvalidArgumentError } from '../errors/trainledger-error.js';

import type { HistogramData } from '../events/train-event.js';

/** The summary detectron2's put_histogram records (the histogram event without name and iteration). */
export type HistogramSummary = Omit<HistogramData, 'name' | 'iter'>;

/**
 * Summarizes values into `bins` equal-width buckets between their min and max (torch.histc's
 * rule: the max falls into the last bucket). Bucket limits are the upper edges.
 *
 * Non-finite values (torch.histc refuses them): the buckets span the finite values, and `min` and
 * `max` are that span's edges (what TensorBoard draws the outer buckets from); -Infinity counts in
 * the first bucket, +Infinity in the last, NaN in none. `num`, `sum` and `sumSquares` take every
 * value, so they may be ±Infinity or NaN. With no finite value at all the span is [0, 0].
 *
 * @example
 * ```ts
 * computeHistogram([1, 2, 2, 3], 2); // { min: 1, max: 3, num: 4, bucketCounts: [1, 3], ... }
 * ```
 */
export function computeHistogram(values: ArrayLike<number>, bins = 1000): HistogramSummary {
  if (!Number.isInteger(bins) || bins < 1) throw new InvalidArgumentError(`histogram bins must be a positive integer, got ${String(bins)}`);
  const n = values.length;
  if (n === 0) throw new InvalidArgumentError('putHistogram expects at least one value, got an empty array');
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    sum += v;
    sumSquares += v * v;
  }
  if (min > max) min = max = 0; // no finite value
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let b: number;
    if (v === -Infinity) b = 0;
    else if (v === Infinity) b = bins - 1;
    else if (v >= min && v <= max) b = width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0;
    else continue; // NaN falls in no bucket
    counts[b]!++;
  }
  const limits = new Array<number>(bins);
  for (let i = 0; i < bins; i++) limits[i] = min + (max - min) * ((i + 1) / bins);
  return { min, max, num: n, sum, sumSquares, bucketLimits: limits, bucketCounts: counts };
}
