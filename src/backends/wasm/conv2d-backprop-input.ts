import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
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
 * `Conv2DBackpropInput` (the gradient of `conv2d` with respect to its input) for the wasm
 * backend, replacing the shipped one, a scalar C++ loop that took 40–60% of a small CNN's
 * training step.
 *
 * The input gradient is the transposed convolution: `dy` spread back to input resolution (each
 * row/column followed by `stride - 1` zeros), convolved at stride 1 by XNNPACK with the filter
 * flipped in space and with its in/out channels exchanged.
 */
const conv2DBackpropInputKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  assertFloat32(Conv2DBackpropInput, dy, 'dy');
  assertFloat32(Conv2DBackpropInput, filter, 'filter');
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  assertShape(Conv2DBackpropInput, dy, 'dy', info.outShape);
  const channelsLast = format === 'channelsLast';
  const rows = inputGradPadding({
    inSize: info.inHeight,
    outSize: info.outHeight,
    filterSize: info.filterHeight,
    stride: info.strideHeight,
    dilation: 1,
    padBefore: info.padInfo.top,
  });
  const cols = inputGradPadding({
    inSize: info.inWidth,
    outSize: info.outWidth,
    filterSize: info.filterWidth,
    stride: info.strideWidth,
    dilation: 1,
    padBefore: info.padInfo.left,
  });

  return withKernelScope(backend, (scope) => {
    // XNNPACK convolves NHWC only: NCHW gradients go through NHWC and back.
    const dyNhwc = channelsLast ? dy : scope.transpose(dy, [0, 2, 3, 1]);
    const spread = spreadForInputGradient(scope, dyNhwc, info.strideHeight, info.strideWidth, rows, cols);
    // [FH, FW, C, OC] → flipped in space → [FH, FW, OC, C].
    const flipped = flipFilter(scope, filter, true);
    const grad = scope.run(
      'Conv2D',
      { x: spread, filter: flipped },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [
          [0, 0],
          [Math.max(0, rows.before), Math.max(0, rows.after)],
          [Math.max(0, cols.before), Math.max(0, cols.after)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
    return channelsLast ? grad : scope.transpose(grad, [0, 3, 1, 2]);
  });
};

/** Kernel config registered into the wasm backend by `enableWasmTraining`. */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: WASM_BACKEND,
  kernelFunc: conv2DBackpropInputKernel,
};
