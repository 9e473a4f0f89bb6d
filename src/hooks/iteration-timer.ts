import { HookBase } from '../engine/hook-base.js';
import { consoleLogger, type Logger } from '../util/logger.js';
import { formatTimedelta } from '../util/format.js';

/**
 * Puts `time` (seconds per iteration) after `warmup` iterations, and at the end of training
 * logs the overall speed and how much time went to hooks (detectron2's IterationTimer).
 * A step's time runs from the end of the previous step (the trainer's `lastStepEnd`) to this
 * hook's afterStep: it covers every hook's beforeStep and the step itself, and, registered first
 * as detectron2 advises, none of the other hooks' afterStep work.
 *
 * @example
 * ```ts
 * trainer.register(new IterationTimer(3));
 * ```
 */
export class IterationTimer extends HookBase {
  readonly warmup: number;
  readonly logger: Logger;
  #stepStart = 0;
  #trainStart = 0;
  /** Milliseconds from each step's start to this hook's afterStep, summed (the loop minus later hooks). */
  #inSteps = 0;
  #stepOpen = 0;
  /** Filled after training: what was logged. */
  summary: { readonly iterations: number; readonly totalSeconds: number; readonly hookSeconds: number; readonly secondsPerIter: number } | null = null;

  constructor(warmup = 3, options: { readonly logger?: Logger } = {}) {
    super();
    this.warmup = warmup;
    this.logger = options.logger ?? consoleLogger;
  }

  override beforeTrain(): void {
    this.#trainStart = performance.now();
    this.#inSteps = 0;
    this.summary = null;
  }

  override beforeStep(): void {
    // The trainer's stamp of the previous step's end (its loop reads the clock once per step):
    // a step's time runs from there to this hook's afterStep, which, with this hook first as
    // detectron2 advises, is what reading the clock here would give, plus the microsecond the
    // loop spends between steps.
    this.#stepStart = this.#stepOpen = this.trainer.state.lastStepEnd;
  }

  override afterStep(): void {
    const now = performance.now();
    const { storage, startIter } = this.trainer.state;
    // +1: this step is done but storage.step() has not counted it yet.
    const done = storage.iter - startIter + 1;
    if (done >= this.warmup) {
      storage.putScalar('time', (now - this.#stepStart) / 1000);
      this.#inSteps += now - this.#stepOpen;
    } else {
      // Warm-up steps (compilation, allocation) are left out of the overall speed.
      this.#trainStart = now;
      this.#inSteps = 0;
    }
  }

  override afterTrain(): void {
    const total = (performance.now() - this.#trainStart) / 1000;
    const steps = this.#inSteps / 1000;
    const { storage, startIter } = this.trainer.state;
    const iterations = storage.iter + 1 - startIter - this.warmup;
    const hookSeconds = Math.max(0, total - steps);
    this.summary = { iterations, totalSeconds: total, hookSeconds, secondsPerIter: iterations > 0 ? steps / iterations : NaN };
    if (iterations > 0 && steps > 0) {
      this.logger.info(`Overall training speed: ${iterations} iterations in ${formatTimedelta(steps)} (${(steps / iterations).toFixed(4)} s / it)`);
    }
    this.logger.info(`Total training time: ${formatTimedelta(total)} (${formatTimedelta(hookSeconds)} on hooks)`);
  }
}
