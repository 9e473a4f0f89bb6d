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
  TOLERANCE,
  useWasmWithCpuReference,
} from './kernel-harness.js';
import { must } from '../../helpers.js';

const cases = fc.record({
  count: fc.integer({ min: 1, max: 40 }),
  rest: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 2 }),
  numSegments: fc.integer({ min: 1, max: 12 }),
  outOfRange: fc.boolean(),
  seed: fc.nat(),
  idSeed: fc.nat(),
});

/** Segment ids in [0, numSegments), or in [-2, numSegments + 2) when out-of-range ids are wanted. */
function segmentIds(count: number, numSegments: number, outOfRange: boolean, seed: number): HostTensor {
  const low = outOfRange ? -2 : 0;
  const high = outOfRange ? numSegments + 2 : numSegments;
  const unit = randomTensor([count], seed).values;
  const ids = Int32Array.from(unit, (u) => low + Math.floor(((u + 1) / 2) * (high - low)));
  return { values: ids, shape: [count], dtype: 'int32' };
}

before(useWasmWithCpuReference);

test('UnsortedSegmentSum on wasm matches the cpu backend to 1e-4 on random shapes and ids, ignoring out-of-range ids like cpu, without leaking', () => {
  fc.assert(
    fc.property(cases, (c) => {
      const inputs = {
        x: randomTensor([c.count, ...c.rest], c.seed),
        segmentIds: segmentIds(c.count, c.numSegments, c.outOfRange, c.idSeed),
      };
      const attrs = { numSegments: c.numSegments };
      const expected = runOnCpu('UnsortedSegmentSum', inputs, attrs);
      const actual = runOnWasm('UnsortedSegmentSum', inputs, attrs);
      assert.equal(actual.dtype, 'float32');
      assertCloseToReference(actual, expected, TOLERANCE, JSON.stringify({ ...c, seed: undefined }));
    }),
    { seed: 20240607, numRuns: RUNS },
  );
});

test('UnsortedSegmentSum on wasm sums int32 values exactly and keeps the int32 dtype', () => {
  const x: HostTensor = { values: Int32Array.from([5, -3, 7, 1, 100, 2]), shape: [3, 2], dtype: 'int32' };
  const ids: HostTensor = { values: Int32Array.from([1, 1, 0]), shape: [3], dtype: 'int32' };
  const actual = runOnWasm('UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 3 });
  assert.equal(actual.dtype, 'int32');
  assert.deepEqual(Array.from(actual.values), [100, 2, 12, -2, 0, 0]);
});

test('UnsortedSegmentSum on wasm gives embedding layers a gradient equal to the cpu one', async () => {
  const tokens = tf.tensor2d([[1, 4, 4, 0], [2, 9, 1, 1]], [2, 4], 'int32');
  const table = tf.variable(tf.tensor2d(randomTensor([10, 3], 7).values as Float32Array, [10, 3]));
  const lossOf = () => tf.sum(tf.square(tf.gather(table, tokens))) as tf.Scalar;
  const wasmGrad = must(tf.variableGrads(lossOf, [table]).grads[table.name], 'the wasm gradient');
  const onWasm = await wasmGrad.data();
  await tf.setBackend('cpu');
  try {
    const cpuGrad = must(tf.variableGrads(lossOf, [table]).grads[table.name], 'the cpu gradient');
    const expected = { values: (await cpuGrad.data()) as Float32Array, shape: cpuGrad.shape, dtype: 'float32' };
    assertCloseToReference({ values: onWasm as Float32Array, shape: wasmGrad.shape, dtype: 'float32' }, expected, TOLERANCE, 'embedding');
    tf.dispose([cpuGrad]);
  } finally {
    await tf.setBackend('wasm');
    tf.dispose([wasmGrad, tokens, table]);
  }
});
