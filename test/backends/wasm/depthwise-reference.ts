/**
 * Plain-loop depthwise convolution gradients (NHWC), written from the forward definition
 * y[n, oh, ow, c·M + m] = Σ x[n, oh·sh + fh·dh − top, ow·sw + fw·dw − left, c] · W[fh, fw, c, m].
 * The cpu backend's depthwise gradient kernels ignore dilations (tfjs only reaches them with
 * dilation 1), so dilated cases are checked against these loops instead.
 */
import * as tf from '@tensorflow/tfjs';

import { must } from '../../helpers.js';

type Info = tf.backend_util.Conv2DInfo;

function forEachTap(
  info: Info,
  visit: (n: number, oh: number, ow: number, fh: number, fw: number, h: number, w: number) => void,
): void {
  for (let n = 0; n < info.batchSize; n++)
    for (let oh = 0; oh < info.outHeight; oh++)
      for (let ow = 0; ow < info.outWidth; ow++)
        for (let fh = 0; fh < info.filterHeight; fh++)
          for (let fw = 0; fw < info.filterWidth; fw++) {
            const h = oh * info.strideHeight + fh * info.dilationHeight - info.padInfo.top;
            const w = ow * info.strideWidth + fw * info.dilationWidth - info.padInfo.left;
            if (h >= 0 && h < info.inHeight && w >= 0 && w < info.inWidth) visit(n, oh, ow, fh, fw, h, w);
          }
}

export function depthwiseFilterGradient(info: Info, x: Float32Array, dy: Float32Array): Float32Array {
  const { inChannels: C, outChannels, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, filterWidth: FW } = info;
  const M = outChannels / C;
  const dW = new Float32Array(info.filterHeight * FW * C * M);
  forEachTap(info, (n, oh, ow, fh, fw, h, w) => {
    for (let c = 0; c < C; c++)
      for (let m = 0; m < M; m++)
        dW[((fh * FW + fw) * C + c) * M + m] =
          must(dW[((fh * FW + fw) * C + c) * M + m], 'a dW element') +
          must(x[((n * H + h) * W + w) * C + c], 'an x element') * must(dy[((n * OH + oh) * OW + ow) * outChannels + c * M + m], 'a dy element');
  });
  return dW;
}

export function depthwiseInputGradient(info: Info, filter: Float32Array, dy: Float32Array): Float32Array {
  const { inChannels: C, outChannels, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, filterWidth: FW } = info;
  const M = outChannels / C;
  const dx = new Float32Array(info.batchSize * H * W * C);
  forEachTap(info, (n, oh, ow, fh, fw, h, w) => {
    for (let c = 0; c < C; c++)
      for (let m = 0; m < M; m++)
        dx[((n * H + h) * W + w) * C + c] =
          must(dx[((n * H + h) * W + w) * C + c], 'a dx element') +
          must(filter[((fh * FW + fw) * C + c) * M + m], 'a filter element') * must(dy[((n * OH + oh) * OW + ow) * outChannels + c * M + m], 'a dy element');
  });
  return dx;
}
