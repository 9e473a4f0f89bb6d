import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { randomValues, useWasmForTraining } from './kernel-harness.js';
import { must } from '../../helpers.js';

/** conv-pool-conv-pool-dense, the shape of the classic tfjs MNIST example, at toy size. */
function tinyCnn(seed: number): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', activation: 'relu', depthwiseInitializer: init(2) }),
      tf.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: init(4) }), // logits, for softmaxCrossEntropy
    ],
  });
}

/** Three separable classes: a bright blob top-left, bottom-right, or nowhere. */
function toyImages(count: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const noise = randomValues(count * 144, 99, 0, 0.2);
  const pixels = new Float32Array(count * 144);
  const labels = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    labels[i * 3 + label] = 1;
    for (let p = 0; p < 144; p++) {
      const row = Math.floor(p / 12);
      const col = p % 12;
      const blob = (label === 0 && row < 6 && col < 6) || (label === 1 && row >= 6 && col >= 6);
      pixels[i * 144 + p] = must(noise[i * 144 + p], 'a noise value') + (blob ? 1 : 0);
    }
  }
  return { xs: tf.tensor4d(pixels, [count, 12, 12, 1]), ys: tf.tensor2d(labels, [count, 3]) };
}

before(useWasmForTraining);

test('training a CNN on wasm decreases the loss of a conv-pool-conv-pool-dense network over a few optimizer steps, without leaking tensors', () => {
  const model = tinyCnn(1);
  const { xs, ys } = toyImages(24);
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  const step = () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor), true);
    losses.push(must(loss!.dataSync()[0], 'the loss value'));
    loss!.dispose();
  };
  step();
  const tensorsAfterFirstStep = tf.memory().numTensors;
  for (let i = 0; i < 7; i++) step();
  assert.equal(tf.memory().numTensors, tensorsAfterFirstStep, 'a training step leaves no tensor behind');
  assert.ok(must(losses.at(-1), 'a last loss') < must(losses[0], 'a first loss') - 0.05, `loss went ${losses.map((l) => l.toFixed(3)).join(' → ')}`);
  tf.dispose([xs, ys]);
  model.dispose();
  optimizer.dispose();
});

test('training a CNN on wasm computes the same weight gradients as the cpu backend for the whole network', async () => {
  const model = tinyCnn(2);
  const { xs, ys } = toyImages(6);
  const lossOf = () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar;
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const onWasm = tf.variableGrads(lossOf, weights).grads;
  const wasmValues = await Promise.all(weights.map((w) => must(onWasm[w.name], `the gradient of ${w.name}`).data()));
  await tf.setBackend('cpu');
  try {
    const onCpu = tf.variableGrads(lossOf, weights).grads;
    for (const [i, w] of weights.entries()) {
      const expected = await must(onCpu[w.name], `the cpu gradient of ${w.name}`).data();
      const actual = must(wasmValues[i], `the wasm gradient of ${w.name}`);
      let scale = 1e-3;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      let worst = 0;
      for (const [j, v] of expected.entries()) worst = Math.max(worst, Math.abs(must(actual[j], `element ${j}`) - v));
      // Same 1e-4 relative tolerance as the kernel tests, on each weight's gradient.
      assert.ok(worst <= 1e-4 * Math.max(1, scale), `${w.name}: max |wasm − cpu| = ${worst}, scale ${scale}`);
    }
    tf.dispose(Object.values(onCpu));
  } finally {
    await tf.setBackend('wasm');
    tf.dispose([...Object.values(onWasm), xs, ys]);
    model.dispose();
  }
});
