/**
 * Process-group communication, single-process edition: world size 1, rank 0. Metric writing
 * goes through it (gather, then reduce on the main process) so that data-parallel workers can
 * plug in later by providing another `Comm`.
 */
export interface Comm {
  readonly worldSize: number;
  readonly rank: number;
  isMainProcess(): boolean;
  /** Every worker's `value`, in rank order, on the main process (elsewhere: an empty array). */
  gather<T>(value: T): T[];
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
  synchronize: () => {},
});
