import { before, test } from 'node:test';

import fc from 'fast-check';

import { convCases, convInfo, describeCase, inputShape } from './conv-cases.js';
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

test('Conv2DBackpropInput on wasm matches the cpu backend to 1e-4 (relative to the largest gradient) on random shapes, strides, paddings and both data formats, without leaking', () => {
  fc.assert(
    fc.property(convCases({ formats: ['NHWC', 'NCHW'], withDilations: false }), (c) => {
      const filterShape: [number, number, number, number] = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const info = convInfo(c, filterShape, false);
      fc.pre(info !== undefined);
      const inputs = { dy: randomTensor(info!.outShape, c.seed), filter: randomTensor(filterShape, c.seed + 1) };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat, dimRoundingMode: c.dimRoundingMode, inputShape: inputShape(c) };
      const expected = runOnCpu('Conv2DBackpropInput', inputs, attrs);
      const actual = runOnWasm('Conv2DBackpropInput', inputs, attrs);
      assertCloseToReference(actual, expected, TOLERANCE, describeCase(c));
    }),
    { seed: 20240602, numRuns: RUNS },
  );
});
