import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';

import { flipFilter } from '../../../src/backends/wasm/flip-filter.js';
import { withKernelScope } from '../../../src/backends/wasm/kernel-scope.js';
import { randomTensor, useWasmWithCpuReference } from './kernel-harness.js';

before(useWasmWithCpuReference);

test('flipFilter equals reverse in space (then the exchange of the last two axes) exactly, for any filter shape, and frees nothing it was given', () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })),
      fc.boolean(),
      fc.integer({ min: 1, max: 1e6 }),
      ([fh, fw, a, b], exchange, seed) => {
        const host = randomTensor([fh, fw, a, b], seed);
        const expected = tf.tidy(() => {
          const flipped = tf.reverse(tf.tensor4d(host.values as Float32Array, [fh, fw, a, b]), [0, 1]);
          return exchange ? tf.transpose(flipped, [0, 1, 3, 2]) : flipped;
        });
        const filter = tf.tensor4d(host.values as Float32Array, [fh, fw, a, b]);
        const before = tf.memory().numTensors;
        const backend = tf.backend();
        const info = withKernelScope(backend, (scope) => flipFilter(scope, filter, exchange));
        const actual = tf.engine().makeTensorFromTensorInfo(info);
        try {
          assert.deepEqual(actual.shape, expected.shape);
          assert.deepEqual(actual.dataSync(), expected.dataSync());
          assert.deepEqual(filter.dataSync(), host.values, 'the filter is left as it was');
          assert.equal(tf.memory().numTensors, before + 1, 'only the result is new');
        } finally {
          tf.dispose([actual, expected, filter]);
        }
      },
    ),
    { seed: 20261127, numRuns: 60 },
  );
});
