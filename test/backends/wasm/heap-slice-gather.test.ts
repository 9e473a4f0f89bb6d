import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';

import {
  assertCloseToReference,
  type HostTensor,
  randomTensor,
  RUNS,
  runOnCpu,
  runOnWasm,
  useWasmWithCpuReference,
} from './kernel-harness.js';
import { must } from '../../helpers.js';

// Rank ≥ 1: the cpu backend returns an empty tensor for a scalar slice, which is no reference.
const shapes = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 });

/** Copies are exact, so the comparisons use a zero tolerance. */
const EXACT = 0;

function asInt32(t: HostTensor): HostTensor {
  return { values: Int32Array.from(t.values, (v) => Math.round(v * 1000)), shape: t.shape, dtype: 'int32' };
}

before(useWasmWithCpuReference);

test('Slice on wasm (copies only the slice) matches the cpu backend exactly for random begins and sizes of float32 and int32 tensors, without leaking', () => {
  const cases = shapes.chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      begin: fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }))),
      fraction: fc.tuple(...shape.map(() => fc.double({ min: 0, max: 1, noNaN: true }))),
      wholeAxis: fc.tuple(...shape.map(() => fc.boolean())),
      int32: fc.boolean(),
      seed: fc.nat(),
    }),
  );
  fc.assert(
    fc.property(cases, (c) => {
      const begin = c.shape.map((_, i) => (c.wholeAxis[i] ? 0 : must(c.begin[i], `begin[${i}]`)));
      // -1 means "to the end", as tf.slice allows.
      const size = c.shape.map((d, i) =>
        c.wholeAxis[i] ? -1 : Math.max(1, Math.round((d - must(begin[i], `begin[${i}]`)) * must(c.fraction[i], `fraction[${i}]`))),
      );
      const x = c.int32 ? asInt32(randomTensor(c.shape, c.seed)) : randomTensor(c.shape, c.seed);
      const attrs = { begin, size };
      assertCloseToReference(runOnWasm('Slice', { x }, attrs), runOnCpu('Slice', { x }, attrs), EXACT, JSON.stringify(c));
    }),
    { seed: 20240611, numRuns: RUNS * 2 },
  );
});

test('Slice on wasm (copies only the slice) slices a training batch out of a large dataset without reading the dataset out of wasm memory', () => {
  const dataset = tf.randomUniform([20000, 784]);
  // The shipped kernel reads the whole source out with readSync before slicing that copy.
  const backend = tf.engine().backend;
  const readSync = backend.readSync;
  const read: unknown[] = [];
  backend.readSync = function (dataId) {
    read.push(dataId);
    return readSync.call(this, dataId);
  };
  try {
    for (let i = 0; i < 20; i++) tf.slice(dataset, [i * 64, 0], [64, 784]).dispose();
  } finally {
    backend.readSync = readSync;
    dataset.dispose();
  }
  assert.deepEqual(read, []);
});

test('GatherV2 on wasm (copies whole slices) matches the cpu backend exactly for random axes, batch dims and indices, without leaking', () => {
  const cases = fc
    .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 })
    .chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        axis: fc.integer({ min: 0, max: shape.length - 1 }),
        batchDims: fc.integer({ min: 0, max: 1 }),
        indexCount: fc.integer({ min: 0, max: 7 }),
        int32: fc.boolean(),
        seed: fc.nat(),
      }),
    );
  fc.assert(
    fc.property(cases, (c) => {
      const batchDims = Math.min(c.batchDims, c.axis);
      const batchShape = c.shape.slice(0, batchDims);
      const indexShape = [...batchShape, c.indexCount];
      const axisSize = must(c.shape[c.axis], 'the gathered axis');
      const unit = randomTensor(indexShape, c.seed + 1).values;
      const indices: HostTensor = {
        values: Int32Array.from(unit, (u) => Math.min(axisSize - 1, Math.floor(((u + 1) / 2) * axisSize))),
        shape: indexShape,
        dtype: 'int32',
      };
      const x = c.int32 ? asInt32(randomTensor(c.shape, c.seed)) : randomTensor(c.shape, c.seed);
      const attrs = { axis: c.axis, batchDims };
      assertCloseToReference(
        runOnWasm('GatherV2', { x, indices }, attrs),
        runOnCpu('GatherV2', { x, indices }, attrs),
        EXACT,
        JSON.stringify({ ...c, batchDims }),
      );
    }),
    { seed: 20240612, numRuns: RUNS * 2 },
  );
});

test('GatherV2 on wasm (copies whole slices) rejects an out-of-range index with an error naming it, and frees its output', () => {
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const indices = tf.tensor1d([0, 2], 'int32');
  const idsBefore = tf.engine().backend.numDataIds();
  assert.throws(() => tf.gather(x, indices), /index 2 .*outside \[0, 1\]/);
  assert.equal(tf.engine().backend.numDataIds(), idsBefore);
  tf.dispose([x, indices]);
});
