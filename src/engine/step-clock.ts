import type { LoopStateRecord } from './loop-state.js';

/** How long (ms) the loop may run without yielding to the event loop. */
const YIELD_EVERY_MS = 100;

/**
 * The loop's clock: one monotonic read per step gives both `state.lastStepEnd` and the step's
 * wall time (the monotonic clock plus an offset re-anchored to Date.now() at every yield), since
 * clock reads add up at the loop's pace. It also says when the loop is due to yield: a fully
 * synchronous loop would starve timers, signals and I/O for the whole run.
 */
export class StepClock {
  readonly #state: LoopStateRecord;
  #lastYield = 0;
  #wallOffset = 0;

  /** Starts the clock: training starts now (`state.lastStepEnd`). */
  constructor(state: LoopStateRecord) {
    this.#state = state;
    this.#anchor();
  }

  #anchor(): void {
    this.#lastYield = this.#state.lastStepEnd = performance.now();
    this.#wallOffset = Date.now() - this.#lastYield;
  }

  /** Stamps the end of the step (`state.lastStepEnd`); returns its wall time in seconds. */
  stepEnded(): number {
    const now = performance.now();
    this.#state.lastStepEnd = now;
    return (now + this.#wallOffset) / 1000;
  }

  /** Whether the loop has run long enough since it last yielded. */
  dueToYield(): boolean {
    return this.#state.lastStepEnd - this.#lastYield > YIELD_EVERY_MS;
  }

  /** Yields to the event loop; the next step starts when it resumes. */
  async yield(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.#anchor();
  }
}
