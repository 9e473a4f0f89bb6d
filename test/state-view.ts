import type { StorageState } from '../src/storage/storage-state.js';
import type { HistoryBuffer } from '../src/storage/history-buffer.js';
import { latestOf, latestWithSmoothingHintOf } from '../src/storage/state-queries.js';
import { must } from './helpers.js';
import { OBSERVED_WINDOWS, type ObservedHistory, type ObservedState } from './oracle/observed-state.js';

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

function observeHistory(h: HistoryBuffer): ObservedHistory {
  return { maxLength: h.maxLength, samples: h.values(), count: h.count, globalAvg: h.globalAvg };
}

/**
 * A real state as the reference implementation (test/oracle) describes its own: every metric's
 * retained samples, statistics, latest value and smoothed reads, the step times and the run info.
 */
export function observe(s: StorageState): ObservedState {
  const m = s.metrics;
  const latest = latestOf(s);
  const smoothed = OBSERVED_WINDOWS.map((w) => latestWithSmoothingHintOf(s, w));
  return {
    iter: s.iter,
    maxLength: s.maxLength,
    metrics: m.names.map((name, i) => {
      const h = must(m.histories[i], `history ${i}`);
      return {
        name,
        hint: must(m.hints[i], `hint ${i}`),
        ...observeHistory(h),
        latest: must(latest[name], `latest of ${name}`),
        windows: OBSERVED_WINDOWS.map((window, w) => ({
          window,
          median: h.median(window),
          avg: h.avg(window),
          countSince: h.countSince(window),
          smoothed: must(smoothed[w]?.[name], `smoothed ${name}`),
        })),
      };
    }),
    steps: observeHistory(s.stepTimes),
    info: s.info,
  };
}
