/**
 * Process-group communication (detectron2's `comm`). Metric writing goes through it (gather,
 * then reduce on the main process). `localComm` is the single-process group (world size 1,
 * rank 0); `GroupComm` (`src/parallel/`) is a group of worker threads sharing memory. Every rank
 * calls the same collectives in the same order.
 */
export interface Comm {
  readonly worldSize: number;
  readonly rank: number;
  isMainProcess(): boolean;
  /** Every rank's `value`, in rank order, on the main process (elsewhere: an empty array). */
  gather<T>(value: T): T[];
  /** Every rank's `value`, in rank order, on every rank. */
  allGather<T>(value: T): T[];
  /** The mean over ranks of each value (keys sorted), on every rank. */
  reduceDict(values: Readonly<Record<string, number>>): Record<string, number>;
  /** Sum (or mean) over ranks of `data`, in place, the same bits on every rank. */
  allReduce(data: Float32Array, op?: 'sum' | 'mean'): Float32Array;
  /** Rank `root`'s `data`, copied into every rank's `data` (same length on every rank). */
  broadcast(data: Float32Array, root?: number): Float32Array;
  /** Waits until every rank has called it. */
  synchronize(): void;
}

/**
 * The single-process Comm.
 *
 * @example
 * ```ts
 * localComm.gather({ loss: 1 }); // [{ loss: 1 }]
 * ```
 */
export const localComm: Comm = Object.freeze({
  worldSize: 1,
  rank: 0,
  isMainProcess: () => true,
  gather: <T>(value: T): T[] => [value],
  allGather: <T>(value: T): T[] => [value],
  reduceDict: (values: Readonly<Record<string, number>>): Record<string, number> => Object.fromEntries(Object.keys(values).sort().map((k) => [k, values[k]!])),
  allReduce: (data: Float32Array): Float32Array => data,
  broadcast: (data: Float32Array): Float32Array => data,
  synchronize: () => {},
});
