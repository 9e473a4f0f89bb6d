/**
 * The filter flip of the wasm input-gradient kernels: `flipFilter` (one JavaScript pass over the
 * wasm heap) against what it replaced, wasm's `Reverse` kernel over the two spatial axes and then
 * `Transpose` to exchange the channel axes, on the same filters in one process, taking turns.
 * Prints µs per flip of each and the ratio.
 *
 *   npm run bench:flip
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.js';
import { flipFilter } from '../../src/backends/wasm/flip-filter.js';
import { withKernelScope } from '../../src/backends/wasm/kernel-scope.js';

tf.env().set('PROD', true);
await selectBackend('wasm', { logger: null });
const backend = tf.backend();
const ROUNDS = 10;
const CALLS = 20;
for (const shape of [[5, 5, 1, 16], [5, 5, 16, 32], [3, 3, 64, 64]] as const) {
  const filter = tf.randomNormal([...shape]);
  const flips = {
    'Reverse + Transpose': () =>
      withKernelScope(backend, (s) => s.transpose(s.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2])),
    flipFilter: () => withKernelScope(backend, (s) => flipFilter(s, filter, true)),
  };
  const ms = { 'Reverse + Transpose': 0, flipFilter: 0 };
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, flip] of Object.entries(flips) as [keyof typeof ms, () => tf.TensorInfo][]) {
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) backend.disposeData(flip().dataId);
      // Round 0 warms up (JIT, allocator).
      if (round > 0) ms[name] += performance.now() - t0;
    }
  }
  const us = (name: keyof typeof ms): number => (ms[name] / (ROUNDS * CALLS)) * 1000;
  console.log(
    `filter ${shape.join('×')}: Reverse + Transpose ${us('Reverse + Transpose').toFixed(1)} µs, flipFilter ${us('flipFilter').toFixed(1)} µs, ${(us('Reverse + Transpose') / us('flipFilter')).toFixed(1)}× faster`,
  );
  filter.dispose();
}
