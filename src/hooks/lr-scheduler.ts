import type * as tf from '@tensorflow/tfjs';
import { HookBase } from '../engine/hook-base.js';
import type { SimpleTrainer } from '../engine/simple-trainer.js';
import type { LRSchedule } from '../schedules/lr-schedule.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/** Sets the learning rate of a tfjs optimizer (SGD keeps a precomputed tensor; others a field). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate?: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else if (typeof o.learningRate === 'number') o.learningRate = lr;
  else throw new InvalidArgumentError(`cannot set the learning rate of ${optimizer.getClassName()}: it has no learningRate`);
}

/**
 * Drives the optimizer's learning rate by a schedule (detectron2's LRScheduler): the rate of
 * iteration k is set before step k, and put as `lr` (no smoothing) after it. Since schedules are
 * functions of the iteration, a resumed run continues the schedule exactly.
 *
 * @example
 * ```ts
 * trainer.register(new LRScheduler(linearWarmup(cosineLR(0.1, maxIter), 100)));
 * ```
 */
export class LRScheduler extends HookBase {
  readonly schedule: LRSchedule;
  readonly #optimizer: tf.Optimizer | null;
  #current = NaN;

  constructor(schedule: LRSchedule, optimizer?: tf.Optimizer) {
    super();
    this.schedule = schedule;
    this.#optimizer = optimizer ?? null;
  }

  #opt(): tf.Optimizer {
    const o = this.#optimizer ?? (this.trainer as SimpleTrainer).optimizer;
    if (!o) throw new InvalidArgumentError('LRScheduler needs an optimizer: pass one, or use it with a SimpleTrainer');
    return o;
  }

  override beforeStep(): void {
    const lr = this.schedule(this.trainer.iter);
    if (lr !== this.#current) {
      setLearningRate(this.#opt(), lr);
      this.#current = lr;
    }
  }

  override afterStep(): void {
    this.trainer.storage.putScalar('lr', this.#current, false);
  }

  override stateDict(): unknown {
    return { iteration: this.trainer.iter, lr: this.#current };
  }

  override loadStateDict(): void {
    // Nothing to restore: the rate is a function of the iteration, set again before the next step.
    this.#current = NaN;
  }
}
