import type * as tf from '@tensorflow/tfjs';
import type { HookBase } from './hook-base.js';

/** One optimizer weight in a state dict, its values read back from the device. */
export interface OptimizerWeightState {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: tf.DataType;
  readonly values: number[];
}

/** The trainer's checkpointable state (detectron2's state_dict). */
export interface TrainerStateDict {
  /** The iteration the state was taken at (`trainer.iter`). */
  readonly iteration: number;
  /** The state of every hook that has one, by `hookStateKeys`. */
  readonly hooks: Readonly<Record<string, unknown>>;
  /** SimpleTrainer: the optimizer's weights (a checkpoint stores them apart, as tensors). */
  readonly optimizer?: readonly OptimizerWeightState[];
  /** SimpleTrainer: where a seekable data source stands (its `position()`). */
  readonly data?: unknown;
}

/**
 * Each hook with the key of its state in `TrainerStateDict.hooks`, in registration order: its
 * `stateKey` (the class name), and for the n-th hook of the same key `Key#n`.
 *
 * @example
 * ```ts
 * hookStateKeys([new EvalHook(5, f), new EvalHook(9, g)]).map((k) => k.key); // ['EvalHook', 'EvalHook#2']
 * ```
 */
export function hookStateKeys(hooks: readonly HookBase[]): Array<{ readonly key: string; readonly hook: HookBase }> {
  const seen = new Map<string, number>();
  return hooks.map((hook) => {
    const base = hook.stateKey;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return { key: n === 1 ? base : `${base}#${n}`, hook };
  });
}

/** The `hooks` part of a state dict: each stateful hook's `stateDict()`, by its key. */
export function hookStates(hooks: readonly HookBase[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, hook } of hookStateKeys(hooks)) {
    const sd = hook.stateDict();
    if (sd !== undefined) out[key] = sd;
  }
  return out;
}

/**
 * Gives each hook its state from a state dict's `hooks`. Keys no hook has produce a warning, as
 * in detectron2.
 */
export function loadHookStates(hooks: readonly HookBase[], states: Readonly<Record<string, unknown>>): void {
  const used = new Set<string>();
  for (const { key, hook } of hookStateKeys(hooks)) {
    if (key in states) {
      hook.loadStateDict(states[key]);
      used.add(key);
    }
  }
  for (const key of Object.keys(states)) {
    if (!used.has(key)) process.emitWarning(`cannot find a hook for state key ${JSON.stringify(key)}; its state is ignored`, { code: 'TRAINLEDGER_UNKNOWN_HOOK_STATE' });
  }
}
