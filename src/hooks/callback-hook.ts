import { HookBase, type HookResult } from '../engine/hook-base.js';
import type { TrainerBase } from '../engine/trainer-base.js';

export interface Callbacks {
  readonly beforeTrain?: (trainer: TrainerBase) => HookResult;
  readonly afterTrain?: (trainer: TrainerBase) => HookResult;
  readonly beforeStep?: (trainer: TrainerBase) => HookResult;
  readonly afterStep?: (trainer: TrainerBase) => HookResult;
}

/**
 * A hook made of functions (detectron2's CallbackHook). Reusable after training.
 *
 * @example
 * ```ts
 * trainer.register(new CallbackHook({ afterStep: (t) => console.log(t.iter) }));
 * ```
 */
export class CallbackHook extends HookBase {
  readonly callbacks: Callbacks;

  constructor(callbacks: Callbacks) {
    super();
    this.callbacks = callbacks;
    // Only the phases given are overridden, so the loop skips the others entirely.
    for (const phase of ['beforeTrain', 'afterTrain', 'beforeStep', 'afterStep'] as const) {
      const fn = callbacks[phase];
      if (fn) this[phase] = () => fn(this.trainer);
    }
  }
}
