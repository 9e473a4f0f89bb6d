import type { StorageState } from '../storage/storage-state.js';

/**
 * `latestWithSmoothingHintOf(state, window)` of only the metrics put for an iteration after
 * `after` (in the same key order): a writer smooths what it writes, not every metric of a wide
 * run at every write.
 *
 * @example
 * ```ts
 * smoothedSince(state, 20, lastWritten); // { loss: [0.41, 119] }
 * ```
 */
export function smoothedSince(state: StorageState, window: number, after: number): Record<string, readonly [value: number, iter: number]> {
  const m = state.metrics;
  const out: Record<string, readonly [number, number]> = {};
  for (let i = 0; i < m.names.length; i++) {
    const h = m.histories[i]!;
    const iter = h.latestIter;
    if (iter <= after) continue;
    out[m.names[i]!] = [m.hints[i] ? h.median(h.countSince(window)) : h.latest()[0], iter];
  }
  return out;
}
