import type * as tf from '@tensorflow/tfjs';
import { Tensor, engine as tfEngine } from '@tensorflow/tfjs';
import { HookBase } from '../engine/hook-base.js';
import type { SimpleTrainer } from '../engine/simple-trainer.js';
import type { LRSchedule } from '../schedules/lr-schedule.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/** What the SGD family (SGD, momentum) keeps: the rate, and `-rate` as a kept scalar tensor. */
interface SgdLike {
  learningRate: number;
  c?: tf.Tensor | null;
}

/** The pieces of the cpu and wasm backends' tensor storage written to below. */
interface CpuLike {
  readonly data: { get(id: unknown): { values?: unknown; refCount?: number } | undefined };
}
interface WasmLike {
  readonly dataIdMap: { get(id: unknown): { memoryOffset?: number | null; refCount?: number } | undefined };
  readonly wasm: { readonly HEAPU8: Uint8Array };
}

/**
 * Writes `value` into a float32 scalar's storage, where the backend keeps it in memory this
 * thread can write (cpu: a Float32Array; wasm: the wasm heap). Only for a tensor whose storage
 * no other tensor shares (refCount 1). Returns false when it could not, and changed nothing.
 */
function writeScalarInPlace(t: tf.Tensor, value: number): boolean {
  if (t.isDisposed || t.dtype !== 'float32' || t.size !== 1) return false;
  const engine = tfEngine();
  const name = engine.backendName;
  if (name === 'cpu') {
    const entry = (engine.backend as unknown as CpuLike).data?.get(t.dataId);
    if (entry?.refCount === 1 && entry.values instanceof Float32Array && entry.values.length === 1) {
      entry.values[0] = value;
      return true;
    }
  } else if (name === 'wasm') {
    const b = engine.backend as unknown as WasmLike;
    const entry = b.dataIdMap?.get(t.dataId);
    const heap = b.wasm?.HEAPU8;
    if (entry?.refCount === 1 && typeof entry.memoryOffset === 'number' && heap !== undefined) {
      new Float32Array(heap.buffer, entry.memoryOffset, 1)[0] = value;
      return true;
    }
  }
  return false;
}

/**
 * Sets the learning rate of a tfjs optimizer. SGD and momentum keep `-rate` as a tensor that
 * their `setLearningRate` replaces (a tensor made and one disposed per call: a schedule calls
 * it every step); on the cpu and wasm backends this writes the new value into that tensor
 * instead, with the same result (the tensor holds `Math.fround(-lr)` either way). Other
 * optimizers read a number field.
 *
 * @example
 * ```ts
 * setLearningRate(optimizer, 0.01);
 * ```
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as SgdLike & { setLearningRate?: (lr: number) => void };
  if (typeof o.setLearningRate === 'function') {
    if (o.c instanceof Tensor && writeScalarInPlace(o.c, -lr)) o.learningRate = lr;
    else o.setLearningRate(lr);
  } else if (typeof o.learningRate === 'number') {
    o.learningRate = lr;
  } else {
    throw new InvalidArgumentError(`cannot set the learning rate of ${optimizer.getClassName()}: it has no learningRate`);
  }
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
    const lr = this.schedule(this.trainer.state.iter);
    if (lr !== this.#current) {
      setLearningRate(this.#opt(), lr);
      this.#current = lr;
    }
  }

  override afterStep(): void {
    this.trainer.state.storage.putScalar('lr', this.#current, false);
  }

  override stateDict(): unknown {
    return { iteration: this.trainer.state.iter, lr: this.#current };
  }

  override loadStateDict(): void {
    // Nothing to restore: the rate is a function of the iteration, set again before the next step.
    this.#current = NaN;
  }
}
