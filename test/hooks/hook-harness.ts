import { readFileSync } from 'node:fs';
import { tf } from '../tf-setup.js';
import { SimpleTrainer, type SimpleTrainerOptions } from '../../src/engine/simple-trainer.js';

/** An endless stream of the same tiny batch: x = [1, 2], y = 2x. */
export function* data(): Generator<{ x: tf.Tensor1D; y: tf.Tensor1D }> {
  for (;;) yield { x: tf.tensor1d([1, 2]), y: tf.tensor1d([2, 4]) };
}

/** A SimpleTrainer fitting y = w·x by SGD; the caller disposes `w`. */
export function simpleTrainer(options: SimpleTrainerOptions = {}): { trainer: SimpleTrainer<{ x: tf.Tensor1D; y: tf.Tensor1D }>; w: tf.Variable } {
  const w = tf.variable(tf.scalar(0.5));
  const trainer = new SimpleTrainer<{ x: tf.Tensor1D; y: tf.Tensor1D }>(
    { loss: (b) => tf.losses.meanSquaredError(b.y, b.x.mul(w)) as tf.Scalar, variables: [w] },
    data(),
    tf.train.sgd(0.01),
    options,
  );
  return { trainer, w };
}

/** The lines of a JSONWriter file (NaN and ±Infinity as strings). */
export function readJson(path: string): Record<string, number>[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l.replace(/-?Infinity|NaN/g, '"$&"')) as Record<string, number>);
}
