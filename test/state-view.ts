import type { StorageState } from '../src/storage/storage-state.js';

/** Everything a state holds, in a form deepStrictEqual compares (NaN equals NaN there). */
export function view(s: StorageState): unknown {
  const m = s.metrics;
  return {
    iter: s.iter,
    maxLength: s.maxLength,
    metrics: m.names.map((n, i) => [n, m.hints[i], m.histories[i]!.values(), m.histories[i]!.count, m.histories[i]!.globalAvg]),
    steps: s.stepTimes.values(),
    info: s.info,
  };
}
