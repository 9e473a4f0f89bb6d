import type { HistoryBuffer } from '../../src/storage/history-buffer.js';
import type { StorageState } from '../../src/storage/storage-state.js';

/** Samples read from a state's histories, as counted by `counted`. */
export interface ReadCount {
  /** Samples read from metric histories. */
  metrics: number;
  /** Samples read from the step times (wall clock). */
  stepTimes: number;
}

/** Samples each HistoryBuffer reader touches (an upper bound where the method stops early). */
function samplesRead(h: HistoryBuffer, method: string, args: readonly unknown[], result: unknown): number {
  const n = (w: unknown) => Math.max(0, Math.min(Math.floor(Number(w)), h.length));
  switch (method) {
    case 'latest':
      return 1;
    case 'tail':
    case 'median':
    case 'avg':
      return n(args[0]);
    case 'countSince':
      // It reads back one sample past the window (the one that stops it).
      return Math.min(h.length, (result as number) + 1);
    case 'values':
      return h.length;
    case 'columns':
      return args[0] === undefined ? h.length : n(args[0]);
    case 'columnsInto':
      return n(args[0]);
    default:
      throw new Error(`counted: a writer called HistoryBuffer.${method}, which this count does not know`);
  }
}

const FREE = new Set(['length', 'count', 'globalAvg', 'maxLength', 'constructor']);

function countedHistory(h: HistoryBuffer, add: (n: number) => void): HistoryBuffer {
  return new Proxy(h, {
    get(target, prop) {
      if (prop === 'latestIter') {
        add(1);
        return target.latestIter;
      }
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof prop !== 'string' || FREE.has(prop) || typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const result = (v as (...a: unknown[]) => unknown).apply(target, args);
        add(samplesRead(target, prop, args, result));
        return result;
      };
    },
  });
}

/**
 * `state` whose histories count the samples read from them into `count`: what a writer's write
 * costs, as work, not time.
 *
 * @example
 * ```ts
 * const count = { metrics: 0, stepTimes: 0 };
 * writer.write(counted(storage.state, count));
 * ```
 */
export function counted(state: StorageState, count: ReadCount): StorageState {
  const m = state.metrics;
  return {
    ...state,
    metrics: { ...m, histories: m.histories.map((h) => countedHistory(h, (k) => (count.metrics += k))) },
    stepTimes: countedHistory(state.stepTimes, (k) => (count.stepTimes += k)),
  };
}
