import { before, test } from 'node:test';

import { depthwiseAttrs, describeCase, forEachConvCase, inputShape } from './conv-cases.js';
import { depthwiseFilterGradient } from './depthwise-reference.js';
import {
  assertCloseToReference,
  randomTensor,
  runOnCpu,
  runOnWasm,
  TOLERANCE,
  useWasmWithCpuReference,
} from './kernel-harness.js';

before(useWasmWithCpuReference);

test('DepthwiseConv2dNativeBackpropFilter on wasm matches the cpu backend to 1e-4 (relative to the largest gradient) on random shapes, channel multipliers, strides and paddings, without leaking', () => {
  forEachConvCase({ formats: ['NHWC'], withDilations: false, depthwise: true }, 20240603, (c, filterShape, info) => {
    const inputs = { x: randomTensor(inputShape(c), c.seed), dy: randomTensor(info.outShape, c.seed + 1) };
    const attrs = { ...depthwiseAttrs(c), filterShape };
    const expected = runOnCpu('DepthwiseConv2dNativeBackpropFilter', inputs, attrs);
    assertCloseToReference(runOnWasm('DepthwiseConv2dNativeBackpropFilter', inputs, attrs), expected, TOLERANCE, describeCase(c));
  });
});

test('DepthwiseConv2dNativeBackpropFilter on wasm matches a plain-loop reference to 1e-4 with dilations, which the cpu kernel ignores', () => {
  forEachConvCase({ formats: ['NHWC'], withDilations: true, depthwise: true }, 20240604, (c, filterShape, info) => {
    const x = randomTensor(inputShape(c), c.seed);
    const dy = randomTensor(info.outShape, c.seed + 1);
    const attrs = { ...depthwiseAttrs(c), filterShape };
    const expected = { values: depthwiseFilterGradient(info, x.values as Float32Array, dy.values as Float32Array), shape: filterShape, dtype: 'float32' };
    assertCloseToReference(runOnWasm('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs), expected, TOLERANCE, describeCase(c));
  });
});
