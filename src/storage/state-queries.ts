import { UnknownMetricError } from './errors.js';
import type { HistoryBuffer } from './history-buffer.js';
import type { StorageState } from './storage-state.js';

/**
 * `latest()` of a state, for readers of a replayed log.
 *
 * @example
 * ```ts
 * latestOf(replayRun(log, 1));
 * ```
 */
export function latestOf(state: StorageState): Record<string, readonly [number, number]> {
  const m = state.metrics;
  const out: Record<string, readonly [number, number]> = {};
  for (let i = 0; i < m.names.length; i++) out[m.names[i]!] = m.histories[i]!.latest();
  return out;
}

/**
 * `latestWithSmoothingHint(window)` of a state.
 *
 * @example
 * ```ts
 * latestWithSmoothingHintOf(state, 20);
 * ```
 */
export function latestWithSmoothingHintOf(state: StorageState, window = 20): Record<string, readonly [number, number]> {
  const m = state.metrics;
  const out: Record<string, readonly [number, number]> = {};
  for (let i = 0; i < m.names.length; i++) {
    const h = m.histories[i]!;
    const [value, iter] = h.latest();
    out[m.names[i]!] = m.hints[i] ? [h.median(h.countSince(window)), iter] : [value, iter];
  }
  return out;
}

/**
 * The history of `name` in a state; throws `UnknownMetricError` if there is none.
 *
 * @example
 * ```ts
 * historyOf(state, 'total_loss').globalAvg;
 * ```
 */
export function historyOf(state: StorageState, name: string): HistoryBuffer {
  const at = state.metrics.index.get(name);
  if (at === undefined) throw new UnknownMetricError(name, state.metrics.names);
  return state.metrics.histories[at]!;
}

/** Every history of `state` by name. */
export function historiesOf(state: StorageState): Record<string, HistoryBuffer> {
  const m = state.metrics;
  const out: Record<string, HistoryBuffer> = {};
  for (let i = 0; i < m.names.length; i++) out[m.names[i]!] = m.histories[i]!;
  return out;
}

/** The smoothing hint of every metric of `state`. */
export function smoothingHintsOf(state: StorageState): Record<string, boolean> {
  const m = state.metrics;
  const out: Record<string, boolean> = {};
  for (let i = 0; i < m.names.length; i++) out[m.names[i]!] = m.hints[i]!;
  return out;
}
