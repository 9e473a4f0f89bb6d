import type * as tf from '@tensorflow/tfjs';

/**
 * What the training loop emits on `trainer.events$`, and what reactive hooks receive.
 *
 * | event                | when                                               | on failure / stop       |
 * |----------------------|----------------------------------------------------|-------------------------|
 * | `train-started`      | before the first iteration (beforeTrain)           | always                  |
 * | `step-started`       | before each iteration's runStep (beforeStep)       | —                       |
 * | `backward-completed` | after gradients, before the optimizer (afterBackward) | —                    |
 * | `step-completed`     | after each iteration (afterStep)                   | not for the failed step |
 * | `metric-recorded`    | each scalar put into storage                       | —                       |
 * | `train-completed`    | after the last iteration (afterTrain)              | not emitted             |
 * | `train-stopped`      | after a stop request ended the loop (afterTrain)   | instead of completed    |
 * | `train-failed`       | after a step or hook threw (afterTrain)            | instead of completed    |
 *
 * Exactly one of `train-completed`, `train-stopped`, `train-failed` ends every `train()` call,
 * including one whose `beforeTrain` threw. A failure found after it was emitted (an afterTrain
 * hook, or a reactive pipeline's work in flight when training ended) still makes the run
 * `failed` in the log and `train()` reject, though hooks were told `train-completed`.
 */
export type LifecycleEvent =
  | { readonly type: 'train-started'; readonly iter: number; readonly startIter: number; readonly maxIter: number }
  | { readonly type: 'step-started'; readonly iter: number }
  | { readonly type: 'backward-completed'; readonly iter: number; readonly grads: tf.NamedTensorMap }
  | { readonly type: 'step-completed'; readonly iter: number }
  | { readonly type: 'metric-recorded'; readonly iter: number; readonly name: string; readonly value: number }
  | { readonly type: 'train-completed'; readonly iter: number }
  | { readonly type: 'train-stopped'; readonly iter: number; readonly reason: string }
  | { readonly type: 'train-failed'; readonly iter: number; readonly error: unknown };

export type LifecycleEventType = LifecycleEvent['type'];

/** The lifecycle event of a given type. */
export type LifecycleEventOf<T extends LifecycleEventType> = Extract<LifecycleEvent, { type: T }>;
