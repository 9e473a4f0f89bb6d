import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tf } from '../tf-setup.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { PeriodicCheckpointer } from '../../src/hooks/periodic-checkpointer.js';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.js';
import { tempDir } from '../helpers.js';

function* data() {
  for (;;) yield { x: tf.tensor1d([1, 2]), y: tf.tensor1d([2, 4]) };
}

function trainer() {
  const w = tf.variable(tf.scalar(0.5));
  const t = new SimpleTrainer<{ x: tf.Tensor1D; y: tf.Tensor1D }>(
    { loss: (b) => tf.losses.meanSquaredError(b.y, b.x.mul(w)) as tf.Scalar, variables: [w] },
    data(),
    tf.train.sgd(0.01),
  );
  return { t, w };
}

const names = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.')).sort();

test('two PeriodicCheckpointers whose prefixes look like regular expressions prune only their own checkpoints', async () => {
  const dir = tempDir();
  const { t, w } = trainer();
  t.register(new PeriodicCheckpointer(dir, 5, { prefix: 'mm', maxToKeep: 1 }), new PeriodicCheckpointer(dir, 5, { prefix: 'm+', maxToKeep: 1 }));
  await t.train(0, 15);
  assert.deepEqual(names(dir), ['m+_0000014', 'm+_final', 'mm_0000014', 'mm_final']);
  w.dispose();
});

test("pruning deletes only <prefix>_<digits>: a '.' in the prefix matches itself, and other names are left alone", async () => {
  const dir = tempDir();
  const store = new CheckpointStore(dir);
  for (const name of ['v1.0_0000001', 'v1x0_0000001', 'v1.0_x_0000002', 'v1.0z_0000003', 'v1.0_00000x4', 'v1.0_best']) await store.save(name, { state: { iteration: 1 } });
  const { t, w } = trainer();
  t.register(new PeriodicCheckpointer(dir, 5, { prefix: 'v1.0', maxToKeep: 1 }));
  await t.train(0, 10);
  assert.deepEqual(names(dir), ['v1.0_0000009', 'v1.0_00000x4', 'v1.0_best', 'v1.0_final', 'v1.0_x_0000002', 'v1.0z_0000003', 'v1x0_0000001']);
  w.dispose();
});

test('pruning orders checkpoints by iteration, so one past 9,999,999 counts as the newest', async () => {
  const dir = tempDir();
  const store = new CheckpointStore(dir);
  await store.save('model_9999999', { state: { iteration: 9999999 } });
  const { t, w } = trainer();
  t.register(new PeriodicCheckpointer(dir, 5, { maxToKeep: 1 }));
  // Train iterations 10,000,000..10,000,004: the save at 10,000,004 has an 8-digit number.
  await t.train(10_000_000, 10_000_005);
  assert.deepEqual(names(dir), ['model_10000004', 'model_final']);
  w.dispose();
});
