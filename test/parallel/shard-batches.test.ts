import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { shardBatches } from '../../src/parallel/shard-batches.js';

function* batches(n: number): Generator<{ xs: tf.Tensor; ys: tf.Tensor }> {
  for (let b = 0; b < n; b++) yield { xs: tf.tensor2d(Array.from({ length: 6 }, (_, r) => [b * 100 + r, -r])), ys: tf.tensor1d(Array.from({ length: 6 }, (_, r) => b * 10 + r)) };
}

test('the shards of every rank, put back in rank order, are the batches themselves, and nothing leaks', () => {
  const before = tf.memory().numTensors;
  for (const worldSize of [1, 2, 3]) {
    const shards = Array.from({ length: worldSize }, (_, rank) => [...shardBatches(batches(2), rank, worldSize)]);
    for (let b = 0; b < 2; b++) {
      const xs = shards.flatMap((s) => s[b]!.xs.arraySync() as number[][]);
      const ys = shards.flatMap((s) => s[b]!.ys.arraySync() as number[]);
      assert.deepEqual(xs, Array.from({ length: 6 }, (_, r) => [b * 100 + r, -r]), `world ${worldSize}, batch ${b}`);
      assert.deepEqual(ys, Array.from({ length: 6 }, (_, r) => b * 10 + r));
    }
    for (const s of shards) for (const batch of s) tf.dispose(Object.values(batch));
  }
  assert.equal(tf.memory().numTensors, before);
});

test('a batch the ranks cannot share evenly is refused, naming it', () => {
  assert.throws(() => [...shardBatches(batches(1), 0, 4)], (e: unknown) => (e as { code?: string }).code === 'ERR_INVALID_ARGUMENT' && /batch 0: xs has 6 rows, which 4 ranks cannot share evenly/.test((e as Error).message));
});
