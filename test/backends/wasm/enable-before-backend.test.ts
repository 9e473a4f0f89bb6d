import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { enableWasmTraining } from '../../../src/backends/wasm/index.js';

test('enableWasmTraining before the wasm backend has started registers the kernels, and the backend then starts and runs them (replaced kernels keep the shipped setup)', async () => {
  tf.env().set('IS_TEST', true);
  assert.equal(tf.engine().registry['wasm'], undefined, 'this file must run before anything starts wasm');
  const { registered } = await enableWasmTraining();
  assert.ok(registered.includes('Conv2DBackpropFilter'));
  assert.equal(await tf.setBackend('wasm'), true);
  // A transposed product and a conv filter gradient: both go through shipped kernels' setups.
  const product = tf.matMul(tf.ones([4, 2]), tf.ones([4, 3]), true, false);
  assert.deepEqual(Array.from(product.dataSync()), Array(6).fill(4));
  const filterGrad = tf.grad((f: tf.Tensor) =>
    tf.sum(tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid')),
  )(tf.zeros([2, 2, 1, 1]));
  assert.deepEqual(Array.from(filterGrad.dataSync()), [4, 4, 4, 4]);
});
