import { before, test } from 'node:test';

import fc from 'fast-check';

import { convCases, convInfo, describeCase, inputShape } from './conv-cases.js';
import { depthwiseFilterGradient } from './depthwise-reference.js';
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

test('DepthwiseConv2dNativeBackpropFilter on wasm matches the cpu backend to 1e-4 (relative to the largest gradient) on random shapes, channel multipliers, strides and paddings, without leaking', () => {
  fc.assert(
    fc.property(convCases({ formats: ['NHWC'], withDilations: false }), (c) => {
      const filterShape: [number, number, number, number] = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const info = convInfo(c, filterShape, true);
      fc.pre(info !== undefined);
      const inputs = { x: randomTensor(inputShape(c), c.seed), dy: randomTensor(info!.outShape, c.seed + 1) };
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode, filterShape };
      const expected = runOnCpu('DepthwiseConv2dNativeBackpropFilter', inputs, attrs);
      const actual = runOnWasm('DepthwiseConv2dNativeBackpropFilter', inputs, attrs);
      assertCloseToReference(actual, expected, TOLERANCE, describeCase(c));
    }),
    { seed: 20240603, numRuns: RUNS },
  );
});

test('DepthwiseConv2dNativeBackpropFilter on wasm matches a plain-loop reference to 1e-4 with dilations, which the cpu kernel ignores', () => {
  fc.assert(
    fc.property(convCases({ formats: ['NHWC'], withDilations: true }), (c) => {
      const filterShape: [number, number, number, number] = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const info = convInfo(c, filterShape, true);
      fc.pre(info !== undefined);
      const x = randomTensor(inputShape(c), c.seed);
      const dy = randomTensor(info!.outShape, c.seed + 1);
      const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode, filterShape };
      const expected = { values: depthwiseFilterGradient(info!, x.values as Float32Array, dy.values as Float32Array), shape: filterShape, dtype: 'float32' };
      const actual = runOnWasm('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs);
      assertCloseToReference(actual, expected, TOLERANCE, describeCase(c));
    }),
    { seed: 20240604, numRuns: RUNS },
  );
});
