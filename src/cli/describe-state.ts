import { latestOf, latestWithSmoothingHintOf } from '../storage/state-queries.js';
import type { StorageState } from '../storage/storage-state.js';
import { formatG } from '../util/format.js';

/** A number as the CLI prints it: six significant digits; NaN and ±Infinity by name. */
export function fmt(v: number): string {
  return Number.isFinite(v) ? formatG(v, 6) : String(v);
}

/**
 * The storage state at iteration N, as JSON-friendly records (used by `show`): iteration, status,
 * the run's config and host as recorded when it started (null before), and each metric.
 */
export function describeState(state: StorageState, window = 20): Record<string, unknown> {
  const latest = latestOf(state);
  const smoothed = latestWithSmoothingHintOf(state, window);
  const metrics: Record<string, unknown> = {};
  const m = state.metrics;
  for (let i = 0; i < m.names.length; i++) {
    const name = m.names[i]!;
    const h = m.histories[i]!;
    const n = h.countSince(window);
    metrics[name] = {
      latest: latest[name]![0],
      iter: latest[name]![1],
      smoothed: smoothed[name]![0],
      smoothingHint: m.hints[i],
      samples: h.count,
      median: h.median(n),
      avg: h.avg(n),
      globalAvg: h.globalAvg,
    };
  }
  const run = state.info.run;
  return { iter: state.iter, status: state.info.status, config: run?.config ?? null, host: run?.host ?? null, metrics };
}

/** A tail line: the smoothed latest metrics, as a writer writing at `iter` writes them. */
export function lineFor(state: StorageState, window: number, iter: number): string {
  const smoothed = latestWithSmoothingHintOf(state, window);
  const parts = Object.entries(smoothed)
    .filter(([k]) => !/^memory\//.test(k))
    .map(([k, [v]]) => `${k}: ${fmt(v)}`);
  return `iter: ${iter}  ${parts.join('  ')}`;
}
