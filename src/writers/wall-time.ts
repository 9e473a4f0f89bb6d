import type { StorageState } from '../storage/storage-state.js';

/** Step times a clock first reads from the end of the state's (it widens from there). */
const FIRST_TAIL = 16;

/**
 * Wall times (seconds) recorded for iterations, read from a state's step times: for `iter`, the
 * end of that step if it finished, otherwise the end of the latest earlier step, otherwise the
 * run's start. Read from the state only, so a replayed writer stamps the same times as the live
 * one.
 *
 * A writer asks about iterations it has not written yet, which are near the end of the run: the
 * clock reads only the newest step times, widening (×4) back just far enough for the earliest
 * iteration asked, so a write costs what it writes, not the length of the run.
 *
 * @example
 * ```ts
 * const clock = new WallClock(state);
 * clock.at(19);
 * ```
 */
export class WallClock {
  readonly #state: StorageState;
  #values: Float64Array = new Float64Array(0);
  #iters: Uint32Array = new Uint32Array(0);
  /** Whether the tail read so far is every step time of the state. */
  #whole = false;

  constructor(state: StorageState) {
    this.#state = state;
  }

  /** The wall time recorded for iteration `iter` (see the class). */
  at(iter: number): number {
    const all = this.#state.stepTimes.length;
    // Steps on the live timeline have increasing iterations: read back until the tail starts at or before iter.
    while (!this.#whole && (this.#iters.length === 0 || this.#iters[0]! > iter)) {
      const n = Math.min(all, Math.max(FIRST_TAIL, this.#iters.length * 4));
      ({ values: this.#values, iters: this.#iters } = this.#state.stepTimes.columns(n));
      this.#whole = n === all;
    }
    const iters = this.#iters;
    // Binary search for the last step at or before iter.
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
    if (found >= 0) return this.#values[found]!;
    return this.#state.info.run?.wallTime ?? 0;
  }
}

/**
 * The wall time recorded for iteration `iter` (see `WallClock`; a writer stamping several
 * iterations of one state makes one clock for all of them).
 *
 * @example
 * ```ts
 * wallTimeAt(state, 19);
 * ```
 */
export function wallTimeAt(state: StorageState, iter: number): number {
  return new WallClock(state).at(iter);
}
