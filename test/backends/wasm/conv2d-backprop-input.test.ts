import { before, test } from 'node:test';

import { conv2dAttrs, describeCase, forEachConvCase, inputShape } from './conv-cases.js';
import {
  assertCloseToReference,
  randomTensor,
  runOnCpu,
  runOnWasm,
  TOLERANCE,
  useWasmWithCpuReference,
} from './kernel-harness.js';

before(useWasmWithCpuReference);

test('Conv2DBackpropInput on wasm matches the cpu backend to 1e-4 (relative to the largest gradient) on random shapes, strides, paddings and both data formats, without leaking', () => {
  forEachConvCase({ formats: ['NHWC', 'NCHW'], withDilations: false, depthwise: false }, 20240602, (c, filterShape, info) => {
    const inputs = { dy: randomTensor(info.outShape, c.seed), filter: randomTensor(filterShape, c.seed + 1) };
    const attrs = { ...conv2dAttrs(c), inputShape: inputShape(c) };
    const expected = runOnCpu('Conv2DBackpropInput', inputs, attrs);
    assertCloseToReference(runOnWasm('Conv2DBackpropInput', inputs, attrs), expected, TOLERANCE, describeCase(c));
  });
});
