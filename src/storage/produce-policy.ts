/**
 * When an open fold (`StateFold`) produces its state unasked: after this many applied events,
 * or as many as the state has metrics if that is more. It bounds the samples buffered in the
 * fold (16 bytes each) while keeping the cost of producing a state (a copy of the metric table,
 * O(metrics)) O(1) per event, however wide the run.
 */
export const MAX_PENDING = 4096;

/**
 * The pending-event count at which a fold whose state has `metricCount` metrics produces it.
 *
 * @example
 * ```ts
 * if (++pending >= produceAt(state.metrics.names.length)) state = fold.finish();
 * ```
 */
export function produceAt(metricCount: number): number {
  return Math.max(MAX_PENDING, metricCount);
}
