/**
 * Choices inside trainledger's wasm kernels, each against its alternative on the same tensors in
 * one process, taking turns (round 0 warms up: JIT, allocator, XNNPACK caches):
 *
 * 1. The filter flip of the input-gradient kernels: `flipFilter` (one JavaScript pass over the
 *    wasm heap) against what it replaced, wasm's `Reverse` over the spatial axes and then
 *    `Transpose` to exchange the channel axes. µs per flip and the ratio.
 * 2. The two strategies of `Conv2DBackpropFilter` on eleven layer shapes (first layers with 1–4
 *    channels, middle layers, 1×1, strided): ms per gradient of each, which one
 *    `filterGradStrategy` (the 'auto' rule) picks, and the sums over the layers of always
 *    convolution (what the kernel did before), of auto, and of the faster each time.
 *
 *   npm run bench:kernels
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.js';
import { conv2DBackpropFilterKernel, filterGradStrategy } from '../../src/backends/wasm/conv2d-backprop-filter.js';
import { flipFilter } from '../../src/backends/wasm/flip-filter.js';
import { withKernelScope } from '../../src/backends/wasm/kernel-scope.js';

tf.env().set('PROD', true);
await selectBackend('wasm', { logger: null });
const backend = tf.backend();

/**
 * ms per call of each candidate, taking turns for `rounds` rounds of `calls` calls. `fresh`
 * makes each call's inputs beforehand, untimed: a training step never sees the same tensor
 * twice, while XNNPACK keeps what it packed from a tensor until that tensor is freed, so reused
 * inputs would time a cache that training never hits.
 */
function race<K extends string>(
  candidates: Record<K, (inputs: readonly tf.Tensor[]) => tf.TensorInfo>,
  fresh: () => readonly tf.Tensor[],
  rounds: number,
  calls: number,
): Record<K, number> {
  const ms = Object.fromEntries(Object.keys(candidates).map((k) => [k, 0])) as Record<K, number>;
  for (let round = 0; round <= rounds; round++) {
    for (const [name, run] of Object.entries(candidates) as [K, (inputs: readonly tf.Tensor[]) => tf.TensorInfo][]) {
      const inputs = Array.from({ length: calls }, fresh);
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) backend.disposeData(run(inputs[i]!).dataId);
      if (round > 0) ms[name] += (performance.now() - t0) / (rounds * calls);
      tf.dispose(inputs.flat());
    }
  }
  return ms;
}

console.log('1. Filter flip of the input gradients');
for (const shape of [[5, 5, 1, 16], [5, 5, 16, 32], [3, 3, 64, 64]] as const) {
  const filter = tf.randomNormal([...shape]);
  const ms = race(
    {
      reverse: ([f]) => withKernelScope(backend, (s) => s.transpose(s.run('Reverse', { x: f! }, { dims: [0, 1] }), [0, 1, 3, 2])),
      flip: ([f]) => withKernelScope(backend, (s) => flipFilter(s, f!, true)),
    },
    () => [tf.add(filter, 0)],
    10,
    20,
  );
  console.log(
    `  filter ${shape.join('×')}: Reverse + Transpose ${(ms.reverse * 1000).toFixed(1)} µs, flipFilter ${(ms.flip * 1000).toFixed(1)} µs, ${(ms.reverse / ms.flip).toFixed(1)}× faster`,
  );
  filter.dispose();
}

console.log('2. Conv2DBackpropFilter: patches vs convolution (ms per gradient; * = what auto picks)');
const layers: ReadonlyArray<readonly [readonly number[], readonly number[], number, 'valid' | 'same']> = [
  [[64, 28, 28, 1], [5, 5, 1, 16], 1, 'valid'],
  [[64, 28, 28, 1], [3, 3, 1, 32], 1, 'same'],
  [[32, 32, 32, 3], [3, 3, 3, 32], 1, 'same'],
  [[32, 32, 32, 3], [5, 5, 3, 16], 1, 'valid'],
  [[16, 56, 56, 3], [7, 7, 3, 64], 2, 'same'],
  [[64, 28, 28, 4], [3, 3, 4, 16], 2, 'same'],
  [[64, 14, 14, 8], [3, 3, 8, 16], 1, 'same'],
  [[64, 12, 12, 16], [5, 5, 16, 32], 1, 'valid'],
  [[64, 14, 14, 16], [1, 1, 16, 64], 1, 'valid'],
  [[64, 8, 8, 16], [3, 3, 16, 128], 1, 'same'],
  [[64, 8, 8, 32], [3, 3, 32, 128], 1, 'same'],
];
const total = { convolution: 0, auto: 0, best: 0 };
for (const [xShape, filterShape, stride, pad] of layers) {
  const info = tf.backend_util.computeConv2DInfo(xShape as never, filterShape as never, stride, 1, pad);
  const x = tf.randomNormal([...xShape]);
  const dy = tf.randomNormal(info.outShape);
  const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape: [...filterShape] } as unknown as tf.NamedAttrMap;
  const run = (strategy: 'patches' | 'convolution') => ([xi, dyi]: readonly tf.Tensor[]) =>
    conv2DBackpropFilterKernel(strategy)({ inputs: { x: xi!, dy: dyi! }, backend, attrs }) as tf.TensorInfo;
  const ms = race({ patches: run('patches'), convolution: run('convolution') }, () => [tf.add(x, 0), tf.add(dy, 0)], 5, 5);
  const auto = filterGradStrategy(info);
  const best = ms.patches <= ms.convolution ? 'patches' : 'convolution';
  total.convolution += ms.convolution;
  total.auto += ms[auto];
  total.best += ms[best];
  const mark = (s: 'patches' | 'convolution'): string => (s === auto ? '*' : ' ');
  console.log(
    `  x ${xShape.join('×')}, filter ${filterShape.join('×')}, stride ${stride} ${pad}: patches ${ms.patches.toFixed(2)}${mark('patches')} convolution ${ms.convolution.toFixed(2)}${mark('convolution')} (convolution/patches ${(ms.convolution / ms.patches).toFixed(2)})`,
  );
  tf.dispose([x, dy]);
}
console.log(
  `  all ${layers.length} layers: always convolution ${total.convolution.toFixed(1)} ms, auto ${total.auto.toFixed(1)} ms (${(total.convolution / total.auto).toFixed(2)}× faster), the faster of the two each time ${total.best.toFixed(1)} ms`,
);
