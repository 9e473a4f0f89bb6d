import { before, describe, it } from 'node:test';

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

describe('Conv2DBackpropFilter on wasm', () => {
  before(useWasmWithCpuReference);

  it('matches the cpu backend to 1e-4 (relative to the largest gradient) on random shapes, strides, paddings and both data formats, without leaking', () => {
    fc.assert(
      fc.property(convCases({ formats: ['NHWC', 'NCHW'], withDilations: false }), (c) => {
        const filterShape: [number, number, number, number] = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
        const info = convInfo(c, filterShape, false);
        fc.pre(info !== undefined);
        const inputs = { x: randomTensor(inputShape(c), c.seed), dy: randomTensor(info!.outShape, c.seed + 1) };
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat, dimRoundingMode: c.dimRoundingMode, filterShape };
        const expected = runOnCpu('Conv2DBackpropFilter', inputs, attrs);
        const actual = runOnWasm('Conv2DBackpropFilter', inputs, attrs);
        assertCloseToReference(actual, expected, TOLERANCE, describeCase(c));
      }),
      { seed: 20240601, numRuns: RUNS },
    );
  });

  it('matches the cpu backend on a training-sized layer (batch 16, 28×28, 5×5 filters, 1→8 channels)', () => {
    const x = randomTensor([16, 28, 28, 1], 1);
    const dy = randomTensor([16, 28, 28, 8], 2);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [5, 5, 1, 8] };
    const expected = runOnCpu('Conv2DBackpropFilter', { x, dy }, attrs);
    assertCloseToReference(runOnWasm('Conv2DBackpropFilter', { x, dy }, attrs), expected, TOLERANCE, 'mnist conv1');
  });
});
