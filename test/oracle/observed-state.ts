/**
 * What a test can observe of a storage state, as plain data: the shape both the reference
 * implementation (reference-storage.ts) and the real state (test/state-view.ts `observe`) are
 * turned into, so `assert.deepStrictEqual` compares them whole (NaN equals NaN there, -0 does
 * not equal 0).
 */

/** The windows (in samples for median/avg, in iterations for countSince and smoothing) observed. */
export const OBSERVED_WINDOWS = [1, 3, 20] as const;

export type Sample = readonly [value: number, iter: number];

export interface ObservedWindow {
  readonly window: number;
  /** Median of the last `window` values (NaN when one of them is NaN). */
  readonly median: number;
  /** Mean of the last `window` values. */
  readonly avg: number;
  /** Trailing samples whose iteration is above `latestIter - window`. */
  readonly countSince: number;
  /** `latestWithSmoothingHint(window)` of this metric. */
  readonly smoothed: Sample;
}

export interface ObservedHistory {
  readonly maxLength: number;
  /** Retained samples, oldest first. */
  readonly samples: readonly Sample[];
  /** Samples ever appended, evicted ones included. */
  readonly count: number;
  /** Running mean of every sample ever appended. */
  readonly globalAvg: number;
}

export interface ObservedMetric extends ObservedHistory {
  readonly name: string;
  readonly hint: boolean;
  readonly latest: Sample;
  readonly windows: readonly ObservedWindow[];
}

export interface ObservedState {
  readonly iter: number;
  readonly maxLength: number;
  /** In order of first appearance. */
  readonly metrics: readonly ObservedMetric[];
  /** Wall times of finished steps, keyed by iteration. */
  readonly steps: ObservedHistory;
  readonly info: unknown;
}
