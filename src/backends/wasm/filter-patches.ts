import type { backend_util, TensorInfo } from '@tensorflow/tfjs';

import type { KernelScope } from './kernel-scope.js';

/**
 * The patches of `x` that a forward convolution multiplied with each filter tap, one row per
 * tap: `[FH·FW·C, N·OH·OW]`, row `(fh·FW + fw)·C + c` holding, for every output position
 * `(n, oh, ow)`, the input value that tap read (0 where it read padding). The filter gradient is
 * then one plain matrix product, `patches · dy` (`dy` as `[N·OH·OW, OC]`), in the layout of the
 * filter `[FH, FW, C, OC]`.
 *
 * Written by a JavaScript pass over the wasm heap; `x` is NHWC or NCHW (`channelsLast`).
 * Dilation 1 only: tfjs computes a filter gradient's geometry with dilation 1.
 *
 * @example
 * ```ts
 * // x [64, 28, 28, 1], 5×5 'valid' → patches [25, 64·24·24]
 * const patches = filterPatches(scope, x, info, true);
 * ```
 */
export function filterPatches(scope: KernelScope, x: TensorInfo, info: backend_util.Conv2DInfo, channelsLast: boolean): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const positions = batchSize * outHeight * outWidth;
  const out = scope.output([filterHeight * filterWidth * inChannels, positions], 'float32');
  // Views are taken after the allocation: an allocation may grow (and detach) the heap.
  const src = scope.heapView(x);
  const dst = scope.heapView(out);
  // Element strides of x for (n, h, w, c) in either layout.
  const sW = channelsLast ? inChannels : 1;
  const sH = inWidth * sW;
  const sC = channelsLast ? 1 : inHeight * inWidth;
  const sN = inHeight * inWidth * inChannels;
  // Columns [owLo, owHi) read inside the input for a given fw; outside them the tap reads padding.
  let row = 0;
  for (let fh = 0; fh < filterHeight; fh++) {
    for (let fw = 0; fw < filterWidth; fw++) {
      const owLo = Math.max(0, Math.ceil((left - fw) / strideWidth));
      const owHi = Math.min(outWidth, Math.floor((inWidth - 1 + left - fw) / strideWidth) + 1);
      for (let c = 0; c < inChannels; c++, row++) {
        let at = row * positions;
        for (let n = 0; n < batchSize; n++) {
          for (let oh = 0; oh < outHeight; oh++) {
            const ih = oh * strideHeight + fh - top;
            if (ih < 0 || ih >= inHeight || owLo >= owHi) {
              dst.fill(0, at, at + outWidth);
              at += outWidth;
              continue;
            }
            if (owLo > 0) dst.fill(0, at, at + owLo);
            let from = n * sN + ih * sH + (owLo * strideWidth + fw - left) * sW + c * sC;
            const step = strideWidth * sW;
            for (let ow = owLo; ow < owHi; ow++, from += step) dst[at + ow] = src[from]!;
            if (owHi < outWidth) dst.fill(0, at + owHi, at + outWidth);
            at += outWidth;
          }
        }
      }
    }
  }
  return out;
}
