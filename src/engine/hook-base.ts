import type { TrainerBase } from './trainer-base.js';
import type { WriterSpec } from '../projections/metric-writer.js';

/** What a hook method may return: nothing, or a promise the loop awaits. */
export type HookResult = void | Promise<void>;

/**
 * Base class of class-style hooks (detectron2's HookBase). The loop calls them as:
 *
 * ```text
 * hook.beforeTrain()
 * for iter in [startIter, maxIter):
 *   hook.beforeStep()
 *   trainer.runStep()      // forward, backward, hook.afterBackward(), optimizer step
 *   hook.afterStep()
 * hook.afterTrain()        // always, also after a failure or a stop
 * ```
 *
 * Conventions: `beforeStep` must take negligible time (timers rely on it); put non-trivial work
 * in `afterStep`. Methods may return a promise, which the loop awaits; synchronous hooks pay no
 * promise overhead. A hook that keeps state implements `stateDict`/`loadStateDict` so that a
 * checkpoint carries it across a resume.
 *
 * @example
 * ```ts
 * class PrintLoss extends HookBase {
 *   override afterStep() {
 *     console.log(this.trainer.state.storage.latest()['total_loss']);
 *   }
 * }
 * trainer.register(new PrintLoss());
 * ```
 */
export abstract class HookBase {
  #trainer: TrainerBase | null = null;

  /** The trainer this hook is registered with. */
  get trainer(): TrainerBase {
    if (this.#trainer === null) throw new Error(`${this.constructor.name} is not registered with a trainer`);
    return this.#trainer;
  }

  /** @internal Set by TrainerBase.register. */
  attach(trainer: TrainerBase | null): void {
    this.#trainer = trainer;
  }

  beforeTrain(): HookResult {}
  afterTrain(): HookResult {}
  beforeStep(): HookResult {}
  afterBackward(): HookResult {}
  afterStep(): HookResult {}

  /**
   * Metric writers this hook wants run on the log's commit thread, as projections of the log
   * (PeriodicWriter offers those of its writers that have a `spec()`). Asked when a run with a
   * log starts; during the run, `trainer.runsOnCommitThread(id)` tells which run there.
   *
   * @example
   * ```ts
   * class MyWriterHook extends HookBase {
   *   override logProjections() { return [new JSONWriter('out/metrics.json').spec()]; }
   * }
   * ```
   */
  logProjections(): readonly WriterSpec[] {
    return [];
  }

  /** Key of this hook's state in the trainer's stateDict. Default: the class name. */
  get stateKey(): string {
    return this.constructor.name;
  }

  /** JSON-serializable state to checkpoint, or undefined for a stateless hook. */
  stateDict(): unknown {
    return undefined;
  }

  loadStateDict(_state: unknown): void {}
}
