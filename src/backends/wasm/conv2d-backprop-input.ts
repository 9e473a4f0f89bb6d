import { Conv2DBackpropInput, type Conv2DBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

import { inputGradConvAttrs, inputGradPaddings } from './conv-geometry.js';
import { flipFilter } from './flip-filter.js';
import { forwardConv, type Shape4 } from './forward-conv.js';
import { spreadForInputGradient } from './input-gradient-spread.js';
import { WASM_BACKEND, withKernelScope } from './kernel-scope.js';

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
  const forward = { depthwise: false, strides, pad, dataFormat, dimRoundingMode } as const;
  const { info, channelsLast } = forwardConv(Conv2DBackpropInput, { dy, filter }, inputShape, filter.shape as Shape4, forward);
  const padding = inputGradPaddings(info);

  return withKernelScope(backend, (scope) => {
    // XNNPACK convolves NHWC only: NCHW gradients go through NHWC and back.
    const dyNhwc = channelsLast ? dy : scope.transpose(dy, [0, 2, 3, 1]);
    const spread = spreadForInputGradient(scope, dyNhwc, info.strideHeight, info.strideWidth, padding);
    // [FH, FW, C, OC] → flipped in space → [FH, FW, OC, C].
    const flipped = flipFilter(scope, filter, true);
    const grad = scope.run('Conv2D', { x: spread, filter: flipped }, { ...inputGradConvAttrs(info, padding), dataFormat: 'NHWC' });
    return channelsLast ? grad : scope.transpose(grad, [0, 3, 1, 2]);
  });
};

/** Kernel config registered into the wasm backend by `enableWasmTraining`. */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: WASM_BACKEND,
  kernelFunc: conv2DBackpropInputKernel,
};
