import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';

import {
  assertCloseToReference,
  randomTensor,
  RUNS,
  runOnCpu,
  runOnWasm,
  TOLERANCE,
  useWasmWithCpuReference,
} from './kernel-harness.js';
import { must } from '../../helpers.js';

const dim = fc.integer({ min: 1, max: 40 });
/** Batch shapes: none, one matrix broadcast against a batch, or equal batches (small and large). */
const batchPair = fc.constantFrom<[number[], number[]]>(
  [[], []],
  [[1], [1]],
  [[3], []],
  [[], [3]],
  [[2, 3], [1]],
  [[1], [2, 2]],
  [[2], [2]],
  [[2, 2], [2, 2]],
);

function operandShape(batch: number[], rows: number, cols: number, transposed: boolean): number[] {
  return [...batch, ...(transposed ? [cols, rows] : [rows, cols])];
}

before(useWasmWithCpuReference);

test('BatchMatMul on wasm (fast transposed and batched products) matches the cpu backend to 1e-4 for every transpose combination and batch layout, without leaking', () => {
  fc.assert(
    fc.property(dim, dim, dim, fc.boolean(), fc.boolean(), batchPair, fc.nat(), (m, k, n, transposeA, transposeB, [batchA, batchB], seed) => {
      const inputs = {
        a: randomTensor(operandShape(batchA, m, k, transposeA), seed),
        b: randomTensor(operandShape(batchB, k, n, transposeB), seed + 1),
      };
      const attrs = { transposeA, transposeB };
      const expected = runOnCpu('BatchMatMul', inputs, attrs);
      const actual = runOnWasm('BatchMatMul', inputs, attrs);
      assertCloseToReference(actual, expected, TOLERANCE, JSON.stringify({ m, k, n, transposeA, transposeB, batchA, batchB }));
    }),
    { seed: 20240609, numRuns: RUNS * 2 },
  );
});

test('BatchMatMul on wasm (fast transposed and batched products) splits large equal batches into XNNPACK products and still matches the cpu backend', () => {
  for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const inputs = { a: randomTensor(operandShape([3], 48, 40, transposeA), 1), b: randomTensor(operandShape([3], 40, 36, transposeB), 2) };
    const attrs = { transposeA, transposeB };
    assertCloseToReference(runOnWasm('BatchMatMul', inputs, attrs), runOnCpu('BatchMatMul', inputs, attrs), TOLERANCE, `split ${transposeA} ${transposeB}`);
  }
});

test('BatchMatMul on wasm (fast transposed and batched products) gives correct results when the same weights are reused and after they change, as in training', () => {
  const x = tf.tensor2d(randomTensor([8, 16], 3).values as Float32Array, [8, 16]);
  let w = tf.variable(tf.tensor2d(randomTensor([16, 4], 4).values as Float32Array, [16, 4]));
  for (let step = 0; step < 4; step++) {
    const viaWasm = tf.matMul(x, w).dataSync();
    const reference = runOnCpu('BatchMatMul', {
      a: { values: x.dataSync() as Float32Array, shape: x.shape, dtype: 'float32' },
      b: { values: w.dataSync() as Float32Array, shape: w.shape, dtype: 'float32' },
    }, { transposeA: false, transposeB: false });
    assertCloseToReference({ values: viaWasm, shape: [8, 4], dtype: 'float32' }, reference, TOLERANCE, `step ${step}`);
    if (step % 2 === 1) w.assign(tf.add(w, 1));
  }
  tf.dispose([x, w]);
});

test('_FusedMatMul on wasm matches the cpu backend to 1e-4 with bias, every fusable activation and transposes, without leaking', () => {
  const activation = fc.constantFrom('linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu');
  fc.assert(
    fc.property(dim, dim, dim, fc.boolean(), fc.boolean(), fc.constantFrom(1, 3), fc.boolean(), fc.boolean(), activation, fc.nat(), (m, k, n, transposeA, transposeB, batchA, batchB1, withBias, act, seed) => {
      const batchB = batchB1 ? 1 : batchA;
      const inputs: Record<string, ReturnType<typeof randomTensor>> = {
        a: randomTensor(operandShape([batchA], m, k, transposeA), seed),
        b: randomTensor(operandShape([batchB], k, n, transposeB), seed + 1),
      };
      if (withBias) inputs.bias = randomTensor([n], seed + 2);
      if (act === 'prelu') inputs.preluActivationWeights = randomTensor([n], seed + 3);
      const attrs = { transposeA, transposeB, activation: act, leakyreluAlpha: 0.2 };
      const expected = runOnCpu('_FusedMatMul', inputs, attrs);
      const actual = runOnWasm('_FusedMatMul', inputs, attrs);
      assertCloseToReference(actual, expected, TOLERANCE, JSON.stringify({ m, k, n, transposeA, transposeB, batchA, batchB, withBias, act }));
    }),
    { seed: 20240610, numRuns: RUNS * 2 },
  );
});

test('_FusedMatMul on wasm is what dense layers use, and their gradients match the cpu backend', async () => {
  const x = tf.tensor2d(randomTensor([6, 5], 5).values as Float32Array, [6, 5]);
  const w = tf.variable(tf.tensor2d(randomTensor([5, 3], 6).values as Float32Array, [5, 3]));
  const bias = tf.variable(tf.tensor1d(randomTensor([3], 7).values as Float32Array));
  const lossOf = () => tf.sum(tf.square(tf.fused.matMul({ a: x, b: w, bias, activation: 'relu' }))) as tf.Scalar;
  const onWasm = tf.variableGrads(lossOf, [w, bias]).grads;
  const gradsOf = (grads: tf.NamedTensorMap) => [must(grads[w.name], 'dW'), must(grads[bias.name], 'dBias')];
  const wasmValues = await Promise.all(gradsOf(onWasm).map((g) => g.data()));
  await tf.setBackend('cpu');
  try {
    const onCpu = tf.variableGrads(lossOf, [w, bias]).grads;
    const cpuValues = await Promise.all(gradsOf(onCpu).map((g) => g.data()));
    assert.equal(cpuValues.length, 2);
    for (const [i, cpuValue] of cpuValues.entries()) {
      const wasmValue = must(wasmValues[i], `wasm gradient ${i}`);
      assert.equal(wasmValue.length, cpuValue.length);
      assertCloseToReference(
        { values: wasmValue as Float32Array, shape: [wasmValue.length], dtype: 'float32' },
        { values: cpuValue as Float32Array, shape: [cpuValue.length], dtype: 'float32' },
        TOLERANCE,
        i === 0 ? 'dW' : 'dBias',
      );
    }
    tf.dispose(Object.values(onCpu));
  } finally {
    await tf.setBackend('wasm');
    tf.dispose([...Object.values(onWasm), x, w, bias]);
  }
});
