import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs';

import { conv2DBackpropFilterKernel, filterGradStrategy } from '../../../src/backends/wasm/conv2d-backprop-filter.js';
import { conv2dAttrs, describeCase, forEachConvCase, inputShape } from './conv-cases.js';
import {
  assertCloseToReference,
  type HostTensor,
  type KernelResult,
  randomTensor,
  runKernelFuncOnWasm,
  runOnCpu,
  runOnWasm,
  TOLERANCE,
  useWasmWithCpuReference,
} from './kernel-harness.js';

/**
 * Checks `run` (the registered kernel, or one strategy of it) against the cpu backend on random
 * shapes, strides, paddings and both data formats.
 */
function matchesCpuOnRandomCases(run: (inputs: Record<string, HostTensor>, attrs: object) => KernelResult, seed: number): void {
  forEachConvCase({ formats: ['NHWC', 'NCHW'], withDilations: false, depthwise: false }, seed, (c, filterShape, info) => {
    const inputs = { x: randomTensor(inputShape(c), c.seed), dy: randomTensor(info.outShape, c.seed + 1) };
    const attrs = { ...conv2dAttrs(c), filterShape };
    assertCloseToReference(run(inputs, attrs), runOnCpu('Conv2DBackpropFilter', inputs, attrs), TOLERANCE, describeCase(c));
  });
}

before(useWasmWithCpuReference);

test('Conv2DBackpropFilter on wasm matches the cpu backend to 1e-4 (relative to the largest gradient) on random shapes, strides, paddings and both data formats, without leaking', () => {
  matchesCpuOnRandomCases((inputs, attrs) => runOnWasm('Conv2DBackpropFilter', inputs, attrs), 20240601);
});

for (const [strategy, seed] of [['patches', 20261127], ['convolution', 20261128]] as const) {
  test(`Conv2DBackpropFilter on wasm computed by ${strategy} matches the cpu backend on random shapes, strides, paddings and both data formats, without leaking`, () => {
    const kernel = conv2DBackpropFilterKernel(strategy);
    matchesCpuOnRandomCases((inputs, attrs) => runKernelFuncOnWasm(kernel, inputs, attrs), seed);
  });
}

test('Conv2DBackpropFilter on wasm uses patches for filters of at most 16 taps (FH·FW·C) whose patch matrix has at most 4M floats, the convolution otherwise', () => {
  const info = (x: [number, number, number, number], filter: [number, number, number, number]) =>
    tf.backend_util.computeConv2DInfo(x, filter, 1, 1, 'valid');
  assert.equal(filterGradStrategy(info([64, 14, 14, 16], [1, 1, 16, 64])), 'patches');
  assert.equal(filterGradStrategy(info([64, 28, 28, 1], [3, 3, 1, 32])), 'patches');
  // 17 and 25 taps.
  assert.equal(filterGradStrategy(info([64, 14, 14, 17], [1, 1, 17, 64])), 'convolution');
  assert.equal(filterGradStrategy(info([64, 28, 28, 1], [5, 5, 1, 16])), 'convolution');
  // 9 taps × 1024·26·26 positions = 6.2M floats: too large a patch matrix.
  assert.equal(filterGradStrategy(info([1024, 28, 28, 1], [3, 3, 1, 16])), 'convolution');
});

test('Conv2DBackpropFilter on wasm matches the cpu backend on a training-sized layer (batch 16, 28×28, 5×5 filters, 1→8 channels)', () => {
  const x = randomTensor([16, 28, 28, 1], 1);
  const dy = randomTensor([16, 28, 28, 8], 2);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [5, 5, 1, 8] };
  const expected = runOnCpu('Conv2DBackpropFilter', { x, dy }, attrs);
  assertCloseToReference(runOnWasm('Conv2DBackpropFilter', { x, dy }, attrs), expected, TOLERANCE, 'mnist conv1');
});
