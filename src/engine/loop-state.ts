import type * as tf from '@tensorflow/tfjs';
import type { EventStorage } from '../storage/event-storage.js';

/**
 * Where a hook finds the run in progress (Ignite's `engine.state`): `trainer.state`. The loop
 * keeps it up to date; to a hook it is read-only (`trainer.requestStop` ends a run, an
 * afterBackward hook replaces gradients through `trainer.grads`).
 *
 * @example
 * ```ts
 * class PrintLoss extends HookBase {
 *   override afterStep() {
 *     const { iter, storage } = this.trainer.state;
 *     console.log(iter, storage.latest()['total_loss']);
 *   }
 * }
 * ```
 */
export interface LoopState {
  /**
   * The iteration being run: in every hook of iteration k, `iter === storage.iter === k`. After
   * `train()`: `maxIter` when it completed, k + 1 when a stop was requested at k, k when step k
   * failed. Also `trainer.iter`.
   */
  readonly iter: number;
  /** The first iteration of the current (or last) `train()` call. */
  readonly startIter: number;
  /** Where the current (or last) `train()` call ends (exclusive). */
  readonly maxIter: number;
  /**
   * The EventStorage of the current (or last) `train()` call, also `trainer.storage`: hooks put
   * metrics there, and read the losses (`latest()['total_loss']`, and each named loss when the
   * model returns several) and `data_time` a SimpleTrainer put, every `gatherMetricPeriod` steps.
   */
  readonly storage: EventStorage;
  /**
   * When the previous step ended (after its afterStep hooks), on the `performance.now()` clock;
   * at the first step of a `train()` call, when training started (and after the loop yielded to
   * the event loop, when it resumed). A hook times a step from here (IterationTimer), so the
   * loop reads the clock once per step for everyone. Also `trainer.lastStepEnd`.
   */
  readonly lastStepEnd: number;
  /**
   * The gradients of the latest backward pass, by variable name (SimpleTrainer; also
   * `trainer.grads`): afterBackward hooks may replace them before the optimizer step, afterStep
   * and the next step's beforeStep hooks can read them. Null in a trainer that keeps none,
   * before the first step, after `train()` returns and (with `zeroGradBeforeForward`) during
   * the forward pass.
   */
  readonly grads: tf.NamedTensorMap | null;
  /** Why the current (or last) `train()` call was asked to stop (`requestStop`), else null. */
  readonly stopReason: string | null;
}

/** @internal The trainer's writable side of its LoopState: the loop and the trainer update it. */
export class LoopStateRecord implements LoopState {
  iter = 0;
  startIter = 0;
  maxIter = 0;
  lastStepEnd = NaN;
  grads: tf.NamedTensorMap | null = null;
  stopReason: string | null = null;

  constructor(public storage: EventStorage) {}
}
