import { before, test } from 'node:test';

import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';

import {
  assertCloseToReference,
  type HostTensor,
  randomTensor,
  RUNS,
  runOnCpu,
  runOnWasm,
  TOLERANCE,
  useWasmWithCpuReference,
} from './kernel-harness.js';

const size = (max: number) => fc.integer({ min: 1, max });
const cases = fc.record({
  shape: fc.tuple(size(3), size(9), size(9), size(4)),
  filter: fc.tuple(size(3), size(3)),
  strides: fc.tuple(size(3), size(3)),
  padKind: fc.constantFrom('same', 'valid', 'number', 'explicit'),
  padValue: fc.integer({ min: 0, max: 1 }),
  rounding: fc.constantFrom(undefined, 'floor', 'round', 'ceil'),
  explicit: fc.tuple(fc.nat(1), fc.nat(1), fc.nat(1), fc.nat(1)),
  values: fc.constantFrom('signed', 'relu'),
  seed: fc.nat(),
});

before(useWasmWithCpuReference);

test('MaxPoolGrad on wasm matches the cpu backend to 1e-4 on random shapes, windows, strides and paddings, including negative windows and ReLU ties, without leaking', () => {
  fc.assert(
    fc.property(cases, (c) => {
      const x = randomTensor(c.shape, c.seed);
      if (c.values === 'relu') x.values.forEach((v, i) => { x.values[i] = Math.max(0, v); });
      const [t, b, l, r] = c.explicit;
      const pad =
        c.padKind === 'same' || c.padKind === 'valid'
          ? c.padKind
          : c.padKind === 'number'
            ? c.padValue
            : [[0, 0], [t, b], [l, r], [0, 0]];
      // A window may not be wider than its padding allows (tfjs asserts pad < filter size).
      fc.pre(typeof pad !== 'object' || Math.max(t, b) < c.filter[0] && Math.max(l, r) < c.filter[1]);
      fc.pre(typeof pad !== 'number' || pad < Math.min(...c.filter));
      const attrs = { filterSize: c.filter, strides: c.strides, pad, dimRoundingMode: c.padKind === 'number' ? c.rounding : undefined };
      const info = tf.backend_util.computePool2DInfo(c.shape, c.filter, c.strides, 1, pad as 'same', attrs.dimRoundingMode);
      fc.pre(info.outHeight > 0 && info.outWidth > 0);
      const pooled = runOnCpu('MaxPool', { x }, attrs);
      const output: HostTensor = { values: pooled.values as Float32Array, shape: pooled.shape, dtype: 'float32' };
      const inputs = { dy: randomTensor(info.outShape, c.seed + 1), input: x, output };
      const expected = runOnCpu('MaxPoolGrad', inputs, attrs);
      const actual = runOnWasm('MaxPoolGrad', inputs, attrs);
      assertCloseToReference(actual, expected, TOLERANCE, JSON.stringify({ ...c, seed: undefined }));
    }),
    { seed: 20240608, numRuns: RUNS },
  );
});
