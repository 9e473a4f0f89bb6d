import { before, test } from 'node:test';

import { depthwiseAttrs, describeCase, forEachConvCase, inputShape } from './conv-cases.js';
import { depthwiseInputGradient } from './depthwise-reference.js';
import {
  assertCloseToReference,
  randomTensor,
  runOnCpu,
  runOnWasm,
  TOLERANCE,
  useWasmWithCpuReference,
} from './kernel-harness.js';

before(useWasmWithCpuReference);

test('DepthwiseConv2dNativeBackpropInput on wasm matches the cpu backend to 1e-4 (relative to the largest gradient) on random shapes, channel multipliers, strides and paddings, without leaking', () => {
  forEachConvCase({ formats: ['NHWC'], withDilations: false, depthwise: true }, 20240605, (c, filterShape, info) => {
    const inputs = { dy: randomTensor(info.outShape, c.seed), filter: randomTensor(filterShape, c.seed + 1) };
    const attrs = { ...depthwiseAttrs(c), inputShape: inputShape(c) };
    const expected = runOnCpu('DepthwiseConv2dNativeBackpropInput', inputs, attrs);
    assertCloseToReference(runOnWasm('DepthwiseConv2dNativeBackpropInput', inputs, attrs), expected, TOLERANCE, describeCase(c));
  });
});

test('DepthwiseConv2dNativeBackpropInput on wasm matches a plain-loop reference to 1e-4 with dilations, which the cpu kernel ignores', () => {
  forEachConvCase({ formats: ['NHWC'], withDilations: true, depthwise: true }, 20240606, (c, filterShape, info) => {
    const dy = randomTensor(info.outShape, c.seed);
    const filter = randomTensor(filterShape, c.seed + 1);
    const attrs = { ...depthwiseAttrs(c), inputShape: inputShape(c) };
    const expected = { values: depthwiseInputGradient(info, filter.values as Float32Array, dy.values as Float32Array), shape: inputShape(c), dtype: 'float32' };
    assertCloseToReference(runOnWasm('DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs), expected, TOLERANCE, describeCase(c));
  });
});
