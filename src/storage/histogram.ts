import { InvalidArgumentError } from '../errors/trainledger-error.js';

import type { HistogramData } from '../events/train-event.js';

/** The summary detectron2's put_histogram records (the histogram event without name and iteration). */
export type HistogramSummary = Omit<HistogramData, 'name' | 'iter'>;

/**
 * Summarizes values into `bins` equal-width buckets between their min and max (torch.histc's
 * rule: the max falls into the last bucket). Bucket limits are the upper edges.
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
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!(v >= min && v <= max)) continue; // NaN falls in no bucket
    const b = width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0;
    counts[b]!++;
  }
  const limits = new Array<number>(bins);
  for (let i = 0; i < bins; i++) limits[i] = min + (max - min) * ((i + 1) / bins);
  return { min, max, num: n, sum, sumSquares, bucketLimits: limits, bucketCounts: counts };
}
