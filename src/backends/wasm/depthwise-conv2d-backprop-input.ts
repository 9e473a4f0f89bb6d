import {
  backend_util,
  DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';

import { inputGradPadding } from './conv-geometry.js';
import { flipFilter } from './flip-filter.js';
import { spreadForInputGradient } from './input-gradient-spread.js';
import { assertFloat32, assertShape } from './kernel-input-checks.js';
import { WASM_BACKEND, withKernelScope } from './kernel-scope.js';

type Shape4 = [number, number, number, number];

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
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const kernel = DepthwiseConv2dNativeBackpropInput;
  assertFloat32(kernel, dy, 'dy');
  assertFloat32(kernel, filter, 'filter');
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  assertShape(kernel, dy, 'dy', info.outShape);
  const [batch, height, width, channels] = inputShape;
  const outChannels = info.outChannels;
  const multiplier = outChannels / channels;
  const rows = inputGradPadding({
    inSize: height,
    outSize: info.outHeight,
    filterSize: info.filterHeight,
    stride: info.strideHeight,
    dilation: info.dilationHeight,
    padBefore: info.padInfo.top,
  });
  const cols = inputGradPadding({
    inSize: width,
    outSize: info.outWidth,
    filterSize: info.filterWidth,
    stride: info.strideWidth,
    dilation: info.dilationWidth,
    padBefore: info.padInfo.left,
  });

  return withKernelScope(backend, (scope) => {
    const spread = spreadForInputGradient(scope, dy, info.strideHeight, info.strideWidth, rows, cols);
    const flipped = flipFilter(scope, filter, false);
    // Each of the C·M filter columns is its own depthwise channel (multiplier 1).
    const perChannel = scope.reshape(flipped, [info.filterHeight, info.filterWidth, outChannels, 1]);
    const grad = scope.run(
      'DepthwiseConv2dNative',
      { x: spread, filter: perChannel },
      {
        strides: [1, 1],
        dilations: [info.dilationHeight, info.dilationWidth],
        pad: [
          [0, 0],
          [Math.max(0, rows.before), Math.max(0, rows.after)],
          [Math.max(0, cols.before), Math.max(0, cols.after)],
          [0, 0],
        ],
      },
    );
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
