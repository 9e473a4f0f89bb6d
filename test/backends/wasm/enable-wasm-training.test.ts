import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { TrainledgerError } from '../../../src/errors/trainledger-error.js';
import {
  disableWasmTraining,
  enableWasmTraining,
  UnsupportedKernelInputError,
  wasmTrainingKernelNames,
} from '../../../src/backends/wasm/index.js';

const MISSING_IN_SHIPPED_WASM = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
];

before(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('wasm');
});

test('enableWasmTraining after tf.setBackend("wasm") lists every kernel it can provide, the missing gradients among them', () => {
  const names = wasmTrainingKernelNames();
  for (const name of [...MISSING_IN_SHIPPED_WASM, 'BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Slice', 'GatherV2']) {
    assert.ok(names.includes(name), name);
  }
});

test('enableWasmTraining after tf.setBackend("wasm") registers all of them into the wasm backend and returns their names', async () => {
  for (const name of MISSING_IN_SHIPPED_WASM) assert.equal(tf.getKernel(name, 'wasm'), undefined, `${name} is missing as shipped`);
  const { registered } = await enableWasmTraining();
  assert.deepEqual(registered, wasmTrainingKernelNames());
  for (const name of registered) assert.ok(tf.getKernel(name, 'wasm'), name);
});

test('enableWasmTraining after tf.setBackend("wasm") is idempotent: a second call keeps the same kernel configs and reports the same names', async () => {
  const names = wasmTrainingKernelNames();
  const configsBefore = names.map((name) => tf.getKernel(name, 'wasm'));
  const { registered } = await enableWasmTraining();
  assert.deepEqual(registered, names);
  assert.notEqual(names.length, 0);
  const configsAfter = names.map((name) => tf.getKernel(name, 'wasm'));
  assert.deepEqual(names.filter((_, i) => configsAfter[i] !== configsBefore[i]), [], 'kernels whose config was replaced');
});

test('enableWasmTraining after tf.setBackend("wasm") can leave the shipped kernels in place and still register the missing gradients', async () => {
  disableWasmTraining();
  const shippedMatMul = tf.getKernel('BatchMatMul', 'wasm');
  const { registered } = await enableWasmTraining({ replaceSlowKernels: false });
  assert.deepEqual(registered, MISSING_IN_SHIPPED_WASM);
  assert.equal(tf.getKernel('BatchMatMul', 'wasm'), shippedMatMul);
  await enableWasmTraining();
  assert.notEqual(tf.getKernel('BatchMatMul', 'wasm'), shippedMatMul);
});

test('enableWasmTraining after tf.setBackend("wasm") is undone by disableWasmTraining, which restores the shipped kernels that still work', async () => {
  await enableWasmTraining();
  const { unregistered } = disableWasmTraining();
  assert.deepEqual(unregistered, wasmTrainingKernelNames());
  for (const name of MISSING_IN_SHIPPED_WASM) assert.equal(tf.getKernel(name, 'wasm'), undefined, name);
  const product = tf.matMul(tf.ones([2, 3]), tf.ones([2, 3]), false, true);
  assert.deepEqual(Array.from(product.dataSync()), [3, 3, 3, 3]);
  assert.deepEqual(disableWasmTraining().unregistered, []);
  await enableWasmTraining();
});

test('enableWasmTraining after tf.setBackend("wasm") rejects inputs its kernels cannot compute with a TrainledgerError that names the value and the expectation', async () => {
  await enableWasmTraining();
  const x = tf.ones([1, 4, 4, 1], 'int32');
  const dy = tf.ones([1, 4, 4, 2]);
  assert.throws(
    () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 1, 2] }),
    (error: unknown) =>
      error instanceof UnsupportedKernelInputError &&
      error instanceof TrainledgerError &&
      error.code === 'ERR_UNSUPPORTED_KERNEL_INPUT' &&
      /'x' has dtype 'int32'; expected 'float32'/.test(error.message),
  );
  const ids = tf.ones([2, 2], 'int32');
  assert.throws(
    () => tf.unsortedSegmentSum(tf.ones([2, 2]), ids as unknown as tf.Tensor1D, 3),
    /'segmentIds' has shape \[2, 2\]; expected a rank-1 tensor/,
  );
  tf.dispose([x, dy, ids]);
});
