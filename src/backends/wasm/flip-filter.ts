import type { TensorInfo } from '@tensorflow/tfjs';

import type { KernelScope } from './kernel-scope.js';

type Shape4 = [number, number, number, number];

/**
 * The filter of an input-gradient convolution: `filter` `[FH, FW, A, B]` flipped in space, and
 * with its last two axes exchanged when `exchangeChannels` (conv2d's `[FH, FW, C, OC]` →
 * `[FH, FW, OC, C]`; depthwise keeps `[FH, FW, C, M]`).
 *
 * One pass of JavaScript over the wasm heap instead of wasm's `Reverse` kernel (plus a
 * `Transpose`): that kernel works out every element's source index with divisions, which costs
 * more than the convolution it feeds at small batches (figures in docs/benchmarks.md).
 *
 * @example
 * ```ts
 * const flipped = flipFilter(scope, filter, true); // [5, 5, 16, 32] → [5, 5, 32, 16]
 * ```
 */
export function flipFilter(scope: KernelScope, filter: TensorInfo, exchangeChannels: boolean): TensorInfo {
  const [height, width, a, b] = filter.shape as Shape4;
  const out = scope.output(exchangeChannels ? [height, width, b, a] : [height, width, a, b], 'float32');
  // Views are taken after the allocation: an allocation may grow (and detach) the heap.
  const src = scope.heapView(filter);
  const dst = scope.heapView(out);
  const taps = height * width;
  const block = a * b;
  for (let tap = 0; tap < taps; tap++) {
    // Tap (fh, fw) goes to (FH-1-fh, FW-1-fw): in row-major order that is tap index taps-1-tap.
    const from = tap * block;
    const to = (taps - 1 - tap) * block;
    if (!exchangeChannels) {
      dst.set(src.subarray(from, from + block), to);
      continue;
    }
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < b; j++) dst[to + j * a + i] = src[from + i * b + j]!;
    }
  }
  return out;
}
