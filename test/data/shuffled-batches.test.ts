import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { ShuffledBatches, loadMnist, type Batch, type BatchPosition } from '../../src/data/index.js';
import { InvalidArgumentError } from '../../src/errors/index.js';
import { must } from '../helpers.js';

before(async () => {
  await tf.setBackend('cpu');
});

// Sample i has features [i, -i] and label i % 3, so a batch's rows reveal which samples it holds.
function toyData(n: number): { images: Float32Array; labels: Uint8Array } {
  const images = new Float32Array(n * 2);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    images[i * 2] = i;
    images[i * 2 + 1] = -i;
    labels[i] = i % 3;
  }
  return { images, labels };
}

interface BatchValues {
  readonly xs: number[][];
  readonly ys: number[][];
}

function take(batches: ShuffledBatches, count: number): BatchValues[] {
  const out: BatchValues[] = [];
  for (let i = 0; i < count; i++) {
    const { xs, ys } = batches.next().value as Batch;
    out.push({ xs: xs.arraySync(), ys: ys.arraySync() });
    tf.dispose([xs, ys]);
  }
  return out;
}

function sampleIds(batch: BatchValues): number[] {
  return batch.xs.map((row) => must(row[0], 'a sample id'));
}

test('batches have the requested shapes, the sample rows and one-hot labels', () => {
  const data = toyData(10);
  const batches = new ShuffledBatches({ ...data, batchSize: 4, seed: 1, numClasses: 3 });
  const { xs, ys } = batches.next().value as Batch;
  assert.deepEqual(xs.shape, [4, 2]);
  assert.deepEqual(ys.shape, [4, 3]);
  const xv = xs.arraySync();
  const ids = xv.map((row) => must(row[0], 'a sample id'));
  assert.deepEqual(xv, ids.map((id) => [id, -id]));
  assert.deepEqual(ys.arraySync(), ids.map((id) => [0, 1, 2].map((label) => (label === id % 3 ? 1 : 0))));
  tf.dispose([xs, ys]);
});

test('a resumed iterator yields exactly the batches the uninterrupted one yields from there', () => {
  const data = toyData(23);
  const uninterrupted = new ShuffledBatches({ ...data, batchSize: 5, seed: 42, numClasses: 3 });
  take(uninterrupted, 7);
  const saved = uninterrupted.position();
  assert.deepEqual(saved, { epoch: 1, cursor: 15, seed: 42 });
  const expected = take(uninterrupted, 12);

  const resumed = ShuffledBatches.fromPosition({ ...data, batchSize: 5, numClasses: 3 }, saved);
  assert.deepEqual(resumed.position(), saved);
  assert.deepEqual(take(resumed, 12), expected);
  assert.deepEqual(resumed.position(), uninterrupted.position());
});

test('resuming from any saved position matches the uninterrupted stream', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 12 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 30 }),
      fc.integer(),
      (n, batchSize, dropLast, skip, seed) => {
        fc.pre(!dropLast || batchSize <= n);
        const data = toyData(n);
        const options = { ...data, batchSize, seed, dropLast, numClasses: 3 };
        const uninterrupted = new ShuffledBatches(options);
        take(uninterrupted, skip);
        const resumed = new ShuffledBatches({ ...options, start: uninterrupted.position() });
        assert.deepEqual(take(resumed, 6), take(uninterrupted, 6));
      },
    ),
    { numRuns: 60 },
  );
});

test('resuming far ahead builds no tensors and needs only that epoch\'s permutation', () => {
  const data = toyData(1000);
  const tensorsBefore = tf.memory().numTensors;
  const resumed = ShuffledBatches.fromPosition({ ...data, batchSize: 10, numClasses: 3 }, { epoch: 1_000_000, cursor: 990, seed: 9 });
  assert.equal(tf.memory().numTensors, tensorsBefore);
  const epochsAsked: number[] = [];
  const epochOrder = resumed.epochOrder.bind(resumed);
  resumed.epochOrder = (epoch) => {
    epochsAsked.push(epoch);
    return epochOrder(epoch);
  };
  const [batch] = take(resumed, 1);
  assert.deepEqual(epochsAsked, [1_000_000]);
  const order = resumed.epochOrder(1_000_000);
  assert.deepEqual(sampleIds(must(batch, 'the resumed batch')), Array.from(order.subarray(990, 1000)));
  assert.deepEqual(resumed.position(), { epoch: 1_000_001, cursor: 0, seed: 9 });
});

test('each epoch covers every sample once, in a different order from the previous epoch', () => {
  const n = 50;
  const batches = new ShuffledBatches({ ...toyData(n), batchSize: 10, seed: 7, numClasses: 3 });
  const epochs = [0, 1, 2].map(() => take(batches, batches.batchesPerEpoch).flatMap(sampleIds));
  for (const ids of epochs) assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.notDeepEqual(epochs[1], epochs[2]);
  assert.deepEqual(epochs[1], Array.from(batches.epochOrder(1)));
});

test('dropLast skips the partial batch and dropLast=false yields it', () => {
  const data = toyData(11);
  const dropping = new ShuffledBatches({ ...data, batchSize: 4, seed: 3, numClasses: 3 });
  assert.equal(dropping.batchesPerEpoch, 2);
  assert.deepEqual(take(dropping, 2).map((b) => b.xs.length), [4, 4]);
  assert.deepEqual(dropping.position(), { epoch: 1, cursor: 0, seed: 3 });

  const keeping = new ShuffledBatches({ ...data, batchSize: 4, seed: 3, numClasses: 3, dropLast: false });
  assert.equal(keeping.batchesPerEpoch, 3);
  const epoch = take(keeping, 3);
  assert.deepEqual(epoch.map((b) => b.xs.length), [4, 4, 3]);
  assert.equal(new Set(epoch.flatMap(sampleIds)).size, 11);
  assert.deepEqual(keeping.position(), { epoch: 1, cursor: 0, seed: 3 });
});

test('for-of iteration continues where it stopped and leaks nothing beyond the yielded tensors', () => {
  const batches = new ShuffledBatches({ ...toyData(30), batchSize: 8, seed: 5, numClasses: 3 });
  const before = tf.memory().numTensors;
  const held: tf.Tensor[] = [];
  let seen = 0;
  for (const { xs, ys } of batches) {
    held.push(xs, ys);
    if (++seen === 5) break;
  }
  assert.equal(tf.memory().numTensors, before + held.length);
  tf.dispose(held);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(batches.position(), { epoch: 1, cursor: 16, seed: 5 });
});

test('MNIST batches are 784 pixels wide with 10 one-hot classes', () => {
  const { train } = loadMnist({ seed: 1, trainSize: 500, testSize: 0 });
  const batches = new ShuffledBatches({ images: train.images, labels: train.labels, batchSize: 32, seed: 1 });
  const { xs, ys } = batches.next().value as Batch;
  assert.deepEqual(xs.shape, [32, 784]);
  assert.deepEqual(ys.shape, [32, 10]);
  assert.deepEqual(tf.tidy(() => Array.from(ys.sum(1).dataSync())), new Array(32).fill(1));
  tf.dispose([xs, ys]);
});

test('invalid inputs and positions are rejected with InvalidArgumentError naming the value', () => {
  const data = toyData(6);
  const make = (extra: object) => () => new ShuffledBatches({ ...data, batchSize: 2, seed: 1, numClasses: 3, ...extra });
  assert.throws(make({ batchSize: 0 }), /batchSize is 0/);
  assert.throws(make({ batchSize: 7 }), /batchSize is 7; expected an integer in \[1, 6\]/);
  assert.doesNotThrow(make({ batchSize: 7, dropLast: false }));
  assert.throws(make({ numClasses: 2 }), /labels\[2\] is 2; expected an integer in \[0, 2\)/);
  assert.throws(make({ images: new Float32Array(13) }), /images has 13 values for 6 labels/);
  assert.throws(make({ seed: 1.5 }), InvalidArgumentError);
  const position = (p: Partial<BatchPosition>) => make({ start: { epoch: 0, cursor: 0, seed: 1, ...p } });
  assert.throws(position({ seed: 2 }), /start.seed is 2; expected the iterator's seed 1/);
  assert.throws(position({ cursor: 6 }), /start.cursor is 6/);
  assert.throws(position({ epoch: -1 }), /epoch is -1/);
});
