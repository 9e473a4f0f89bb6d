import type { StorageState } from '../storage/storage-state.js';

/**
 * Wall time (seconds) recorded for iteration `iter`: the end of that step if it finished,
 * otherwise the end of the latest earlier step, otherwise the run's start. Read from the state
 * only, so a replayed writer stamps the same times as the live one.
 *
 * @example
 * ```ts
 * wallTimeAt(state, 19);
 * ```
 */
export function wallTimeAt(state: StorageState, iter: number): number {
  const { values, iters } = state.stepTimes.columns();
  // Steps on the live timeline have increasing iterations: binary search for the last <= iter.
  let lo = 0;
  let hi = iters.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (iters[mid]! <= iter) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found >= 0) return values[found]!;
  return state.info.run?.wallTime ?? 0;
}
