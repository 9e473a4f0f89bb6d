import { before, test } from 'node:test';

import fc from 'fast-check';

import { convCases, convInfo, describeCase, inputShape } from './conv-cases.js';
import { depthwiseInputGradient } from './depthwise-reference.js';
import {
  assertCloseToReference,
  randomTensor,
  RUNS,
  runOnCpu,
  runOnWasm,
  TOLERANCE,
  useWasmWithCpuReference,
} from './kernel-harness.js';

before(useWasmWithCpuReference);

test('DepthwiseConv2dNativeBackpropInput on wasm matches the cpu backend to 1e-4 (relative to the largest gradient) on random shapes, channel multipliers, strides and paddings, without leaking', () => {
  fc.assert(
    fc.property(convCases({ formats: ['NHWC'], withDilations: false }), (c) => {
      const filterShape: [number, number, number, number] = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const info = convInfo(c, filterShape, true);
      fc.pre(info !== undefined);
      const inputs = { dy: randomTensor(info!.outShape, c.seed), filter: randomTensor(filterShape, c.seed + 1) };
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode, inputShape: inputShape(c) };
      const expected = runOnCpu('DepthwiseConv2dNativeBackpropInput', inputs, attrs);
      const actual = runOnWasm('DepthwiseConv2dNativeBackpropInput', inputs, attrs);
      assertCloseToReference(actual, expected, TOLERANCE, describeCase(c));
    }),
    { seed: 20240605, numRuns: RUNS },
  );
});

test('DepthwiseConv2dNativeBackpropInput on wasm matches a plain-loop reference to 1e-4 with dilations, which the cpu kernel ignores', () => {
  fc.assert(
    fc.property(convCases({ formats: ['NHWC'], withDilations: true }), (c) => {
      const filterShape: [number, number, number, number] = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const info = convInfo(c, filterShape, true);
      fc.pre(info !== undefined);
      const dy = randomTensor(info!.outShape, c.seed);
      const filter = randomTensor(filterShape, c.seed + 1);
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode, inputShape: inputShape(c) };
      const expected = { values: depthwiseInputGradient(info!, filter.values as Float32Array, dy.values as Float32Array), shape: inputShape(c), dtype: 'float32' };
      const actual = runOnWasm('DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs);
      assertCloseToReference(actual, expected, TOLERANCE, describeCase(c));
    }),
    { seed: 20240606, numRuns: RUNS },
  );
});
