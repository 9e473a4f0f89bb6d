import { DepthwiseConv2dNativeBackpropFilter, type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

import { filterGradConvAttrs, filterGradPaddings } from './conv-geometry.js';
import { forwardConv, type Shape4 } from './forward-conv.js';
import { WASM_BACKEND, withKernelScope } from './kernel-scope.js';

/**
 * `DepthwiseConv2dNativeBackpropFilter` for the wasm backend, which does not ship one.
 *
 * dW[fh, fw, c, m] = Σ_n Σ_{oh, ow} x[n, oh·s + fh·d, ow·s + fw·d, c] · dy[n, oh, ow, c·M + m].
 * The inner double sum is a depthwise convolution once every (n, c) pair is its own channel:
 * x as [1, H, W, N·C] and dy as a filter [OH, OW, N·C, M], with stride and dilation exchanged.
 * XNNPACK runs that, and the remaining Σ_n is a small reduction over the filter-sized result.
 */
const depthwiseConv2dBackpropFilterKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const forward = { depthwise: true, strides, dilations, pad, dimRoundingMode } as const;
  const { info } = forwardConv(DepthwiseConv2dNativeBackpropFilter, { x, dy }, x.shape as Shape4, filterShape, forward);
  const [batch, height, width, channels] = x.shape as Shape4;
  const multiplier = info.outChannels / info.inChannels;
  const padding = filterGradPaddings(info);

  return withKernelScope(backend, (scope) => {
    const pairs = batch * channels;
    // [1, H, W, N·C]: one channel per (sample, channel) pair.
    const xT = scope.reshape(scope.transpose(x, [1, 2, 0, 3]), [1, height, width, pairs]);
    // [OH, OW, N·C, M]: dy as a per-pair filter whose taps are the forward output positions.
    const dyT = scope.reshape(scope.transpose(dy, [1, 2, 0, 3]), [info.outHeight, info.outWidth, pairs, multiplier]);
    const perPair = scope.run('DepthwiseConv2dNative', { x: xT, filter: dyT }, filterGradConvAttrs(info, padding));
    // [1, taps, taps, N·C·M]; trailing input rows the forward pass never reached produce extra
    // (meaningless) taps.
    const [, tapRows, tapCols] = perPair.shape as Shape4;
    const perSample = scope.reshape(perPair, [tapRows, tapCols, batch, channels * multiplier]);
    const grad = scope.cropTo(perSample, [info.filterHeight, info.filterWidth, batch, channels * multiplier]);
    const summed = batch === 1 ? grad : scope.run('Sum', { x: grad }, { axis: [2], keepDims: false });
    return scope.reshape(summed, filterShape);
  });
};

/** Kernel config registered into the wasm backend by `enableWasmTraining`. */
export const depthwiseConv2dBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: WASM_BACKEND,
  kernelFunc: depthwiseConv2dBackpropFilterKernel,
};
