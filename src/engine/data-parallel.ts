import * as tf from '@tensorflow/tfjs';
import type { Comm } from './comm.js';

/**
 * The gradients averaged over the ranks of `comm`: one flat float32 all-reduce, so every rank
 * gets the same bits and the replicas stay identical. `order` names the gradients in an order
 * every replica agrees on (the trainer's variables, as each replica lists them; names can differ
 * between replicas); without it, their names sorted, which then must match. New tensors; the
 * caller disposes the given ones.
 *
 * @example
 * ```ts
 * const mean = allReduceGradients(comm, grads, variables.map((v) => v.name));
 * ```
 */
export function allReduceGradients(comm: Comm, grads: tf.NamedTensorMap, order?: readonly string[]): tf.NamedTensorMap {
  const names = order ?? Object.keys(grads).sort();
  const flat = new Float32Array(names.reduce((n, name) => n + grads[name]!.size, 0));
  let at = 0;
  for (const name of names) {
    const g = grads[name]!;
    flat.set(g.dataSync(), at);
    at += g.size;
  }
  comm.allReduce(flat, 'mean');
  const out: tf.NamedTensorMap = {};
  at = 0;
  for (const name of names) {
    const g = grads[name]!;
    out[name] = tf.tensor(flat.subarray(at, at + g.size), g.shape, 'float32');
    at += g.size;
  }
  return out;
}

/**
 * Rank 0's values of `variables`, assigned on every rank (replicas start from the same weights,
 * whatever each initialised them to). Every rank passes its variables in the same order.
 *
 * @example
 * ```ts
 * broadcastVariables(comm, model.trainableWeights.map((w) => w.read() as tf.Variable));
 * ```
 */
export function broadcastVariables(comm: Comm, variables: readonly tf.Variable[]): void {
  const flat = new Float32Array(variables.reduce((n, v) => n + v.size, 0));
  let at = 0;
  for (const v of variables) {
    flat.set(v.dataSync(), at);
    at += v.size;
  }
  comm.broadcast(flat, 0);
  at = 0;
  for (const v of variables) {
    const t = tf.tensor(flat.subarray(at, at + v.size), v.shape, 'float32');
    v.assign(t);
    t.dispose();
    at += v.size;
  }
}

/**
 * Every trainable variable tfjs knows, by name: what a trainer given no variables trains
 * (`tf.variableGrads`' default), in an order every replica agrees on.
 *
 * @example
 * ```ts
 * broadcastVariables(comm, trainableVariables());
 * ```
 */
export function trainableVariables(): tf.Variable[] {
  const registered = tf.engine().registeredVariables;
  return Object.keys(registered)
    .sort()
    .map((name) => registered[name]!)
    .filter((v) => v.trainable);
}
