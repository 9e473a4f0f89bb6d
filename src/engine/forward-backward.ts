import * as tf from '@tensorflow/tfjs';
import type { LossFn } from './simple-trainer.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { isTensor } from '../backends/tfjs-objects.js';

/**
 * Disposes the tensors of a gradient map. tf.dispose would walk it as any container (a Set, a
 * list and a type test per entry), on every step.
 */
export function disposeMap(map: tf.NamedTensorMap): void {
  for (const k in map) map[k]?.dispose();
}

/** What a loss function returned, for an error message. */
function describeLoss(t: unknown): string {
  if (isTensor(t)) return `a tensor of shape [${t.shape.join(', ')}]`;
  return t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t === 'object' ? 'an empty object' : typeof t;
}

/** The loss names of a model that returns a single loss (shared: no array per step). */
const TOTAL_ONLY: string[] = ['total_loss'];

/** What one step's forward and backward pass leaves. */
export interface Forward {
  /**
   * What metrics are read from, in one device read: the total alone for a single loss (no extra
   * op), else the per-loss values then the total, stacked.
   */
  readonly stacked: tf.Tensor;
  readonly grads: tf.NamedTensorMap;
  /** First iteration whose total was not finite among unread steps, or -1 (only with period > 1). */
  readonly badIter: tf.Scalar | null;
  /** The losses' names, in the order of `stacked` (`total_loss` alone for a single loss). */
  readonly names: readonly string[];
}

/** SimpleTrainer's forward and backward pass: the loss of a batch, and its gradients. */
export class ForwardBackward<B> {
  readonly #lossFn: LossFn<B>;
  /** A malformed loss seen in the current forward pass (see #scalarLoss). */
  #invalid: InvalidArgumentError | null = null;

  constructor(
    lossFn: LossFn<B>,
    /** The variables to differentiate by; undefined: every trainable variable. */
    readonly variables: tf.Variable[] | undefined,
    /** gatherMetricPeriod: with more than 1, unread steps keep a record of a non-finite total. */
    readonly period: number,
  ) {
    this.#lossFn = lossFn;
  }

  /**
   * `t` if it is a scalar tensor. Else the error is kept, to be thrown once variableGrads has
   * returned, and a stand-in scalar goes on: a throw inside the loss function would leak what
   * tfjs saved for the backward pass (it frees that only at the end of a completed one).
   */
  #scalarLoss(iter: number, t: unknown, what: string): tf.Scalar {
    if (isTensor(t) && t.rank === 0) return t as tf.Scalar;
    this.#invalid ??= new InvalidArgumentError(`the model's ${what} must be a scalar tensor, got ${describeLoss(t)} at iteration ${iter}`);
    return isTensor(t) ? (t.sum() as tf.Scalar) : tf.scalar(0);
  }

  /**
   * Runs the loss on `batch` and differentiates it: the gradients, the losses to read, and (with
   * period > 1) the record of the first non-finite total. Throws, having freed what it made,
   * when the loss is not a scalar or a non-empty record of scalars.
   */
  run(batch: B, iter: number, readThisStep: boolean, prevBadIter: tf.Scalar | null): Forward {
    // No tf.tidy around this: variableGrads runs the loss inside scopes of its own (forward, then
    // backward), so all it leaves are the value and the gradients, which #release disposes: a
    // scope would cost bookkeeping on every step.
    let names: string[] = TOTAL_ONLY;
    let stacked: tf.Tensor1D | null = null;
    let returned: tf.Tensor | null = null;
    this.#invalid = null;
    let vg: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      vg = tf.variableGrads(() => {
        const out = this.#lossFn(batch);
        if (isTensor(out)) return (returned = this.#scalarLoss(iter, out, 'loss'));
        const record: Readonly<Record<string, unknown>> = out !== null && typeof out === 'object' ? out : {};
        names = Object.keys(record);
        if (names.length === 0) {
          this.#invalid = new InvalidArgumentError(`the model must return a scalar loss tensor or a non-empty record of them, got ${describeLoss(out)} at iteration ${iter}`);
          return (returned = tf.scalar(0));
        }
        const parts = names.map((n) => this.#scalarLoss(iter, record[n], `loss ${JSON.stringify(n)}`));
        const total = (parts.length === 1 ? parts[0]! : tf.addN(parts)) as tf.Scalar;
        // Intermediates of the loss function die with the gradient scope: keep the one tensor
        // metrics are read from.
        stacked = tf.keep(tf.stack([...parts, total]) as tf.Tensor1D);
        return (returned = total);
      }, this.variables);
    } catch (e) {
      // What the loss returned outlives the gradient scopes, and so does what we kept: when
      // variableGrads throws after the loss (no gradient path), nothing else frees them.
      (returned as tf.Tensor | null)?.dispose();
      (stacked as tf.Tensor | null)?.dispose();
      throw this.#invalid ?? e;
    }
    if (this.#invalid !== null) {
      vg.value.dispose();
      disposeMap(vg.grads);
      (stacked as tf.Tensor | null)?.dispose();
      throw this.#invalid;
    }
    const { value, grads } = vg;
        // (Assigned in the closure: control-flow analysis cannot see that.)
    const kept = stacked as tf.Tensor1D | null;
    // A single loss is read straight from the total: every extra op costs engine bookkeeping.
    const read: tf.Tensor = kept ?? value;
    if (this.period === 1) {
      if (kept !== null) value.dispose();
      return { stacked: read, grads, badIter: null, names };
    }
    try {
      // Tensors made here die with this scope, but for what it returns.
      return tf.tidy(() => {
        // Remember the first non-finite total among steps we do not read, without a device sync.
        const prev = prevBadIter ?? tf.scalar(-1, 'int32');
        const bad = tf.logicalAnd(tf.less(prev, 0), tf.logicalNot(tf.isFinite(value)));
        const badIter = tf.where(bad, tf.scalar(iter, 'int32'), prev) as tf.Scalar;
        if (!readThisStep) return { stacked: read, grads, badIter, names };
        const s = tf.concat([read.reshape([-1]), tf.cast(badIter, 'float32').reshape([1])]);
        read.dispose();
        return { stacked: s, grads, badIter, names };
      }) as unknown as Forward;
    } catch (e) {
      read.dispose();
      tf.dispose(grads);
      throw e;
    } finally {
      if (kept !== null) value.dispose();
    }
  }
}
