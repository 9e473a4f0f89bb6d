import { DepthwiseConv2dNativeBackpropInput, type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

import { inputGradConvAttrs, inputGradPaddings } from './conv-geometry.js';
import { flipFilter } from './flip-filter.js';
import { forwardConv, type Shape4 } from './forward-conv.js';
import { spreadForInputGradient } from './input-gradient-spread.js';
import { WASM_BACKEND, withKernelScope } from './kernel-scope.js';

/**
 * `DepthwiseConv2dNativeBackpropInput` for the wasm backend, which does not ship one.
 *
 * The input gradient is the transposed convolution: spread `dy` back to input resolution by
 * following each row/column with `stride - 1` zeros, then run a stride-1 depthwise convolution
 * (XNNPACK) with the spatially flipped filter and the forward dilation. With a channel
 * multiplier M every output channel c·M + m is its own depthwise channel, and the M results of a
 * channel are summed at the end.
 */
const depthwiseConv2dBackpropInputKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const forward = { depthwise: true, strides, dilations, pad, dimRoundingMode } as const;
  const { info } = forwardConv(DepthwiseConv2dNativeBackpropInput, { dy, filter }, inputShape, filter.shape as Shape4, forward);
  const [batch, height, width, channels] = inputShape;
  const outChannels = info.outChannels;
  const multiplier = outChannels / channels;
  const padding = inputGradPaddings(info);

  return withKernelScope(backend, (scope) => {
    const spread = spreadForInputGradient(scope, dy, info.strideHeight, info.strideWidth, padding);
    const flipped = flipFilter(scope, filter, false);
    // Each of the C·M filter columns is its own depthwise channel (multiplier 1).
    const perChannel = scope.reshape(flipped, [info.filterHeight, info.filterWidth, outChannels, 1]);
    const grad = scope.run('DepthwiseConv2dNative', { x: spread, filter: perChannel }, inputGradConvAttrs(info, padding));
    if (multiplier === 1) return grad;
    return scope.run(
      'Sum',
      { x: scope.reshape(grad, [batch, height, width, channels, multiplier]) },
      { axis: [4], keepDims: false },
    );
  });
};

/** Kernel config registered into the wasm backend by `enableWasmTraining`. */
export const depthwiseConv2dBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: WASM_BACKEND,
  kernelFunc: depthwiseConv2dBackpropInputKernel,
};
