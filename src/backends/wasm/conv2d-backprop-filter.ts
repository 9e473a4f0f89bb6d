import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';

import { convOutSize, filterGradPadding } from './conv-geometry.js';
import { assertFloat32, assertShape } from './kernel-input-checks.js';
import { WASM_BACKEND, withKernelScope } from './kernel-scope.js';

type Shape4 = [number, number, number, number];

/**
 * `Conv2DBackpropFilter` (the gradient of `conv2d` with respect to its filter) for the wasm
 * backend, which does not ship one.
 *
 * dW[fh, fw, c, oc] = Σ_{n, oh, ow} x[n, oh·s + fh, ow·s + fw, c] · dy[n, oh, ow, oc] is itself a
 * convolution: take `x` with channels as batch and batch as channels ([C, H, W, N]), and `dy` as
 * the filter ([OH, OW, N, OC]); the forward stride becomes the dilation. XNNPACK then does the
 * whole reduction as one GEMM, which measured 25–50× faster than im2col built from wasm's
 * Slice/Concat kernels and than its `Conv3DBackpropFilterV2` loop (which is also wrong for
 * strided 'valid' inputs in 4.22). The mirror formulation, `x` as the filter (smaller to repack
 * when channels grow), measured no faster: its GEMM has only C output columns, and XNNPACK's
 * SIMD tiles waste most of their lanes on a single-channel input.
 */
const conv2DBackpropFilterKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttrs;
  assertFloat32(Conv2DBackpropFilter, x, 'x');
  assertFloat32(Conv2DBackpropFilter, dy, 'dy');
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  assertShape(Conv2DBackpropFilter, dy, 'dy', info.outShape);
  const channelsLast = format === 'channelsLast';
  const rows = filterGradPadding({
    inSize: info.inHeight,
    outSize: info.outHeight,
    filterSize: info.filterHeight,
    stride: info.strideHeight,
    dilation: 1,
    padBefore: info.padInfo.top,
  });
  const cols = filterGradPadding({
    inSize: info.inWidth,
    outSize: info.outWidth,
    filterSize: info.filterWidth,
    stride: info.strideWidth,
    dilation: 1,
    padBefore: info.padInfo.left,
  });

  return withKernelScope(backend, (scope) => {
    // [C, H, W, N]: the input channels become the batch, the batch becomes the reduced channels.
    const xT = scope.transpose(x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    // [OH, OW, N, OC]: dy becomes a filter whose taps are the forward output positions.
    const dyT = scope.transpose(dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    let grad = scope.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        dilations: [info.strideHeight, info.strideWidth],
        pad: [
          [0, 0],
          [rows.before, rows.after],
          [cols.before, cols.after],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
    const height = convOutSize(info.inHeight + rows.before + rows.after, info.outHeight, 1, info.strideHeight);
    const width = convOutSize(info.inWidth + cols.before + cols.after, info.outWidth, 1, info.strideWidth);
    if (height !== info.filterHeight || width !== info.filterWidth) {
      // Trailing input rows the forward pass never reached produced extra (meaningless) taps.
      grad = scope.run(
        'Slice',
        { x: grad },
        { begin: [0, 0, 0, 0], size: [info.inChannels, info.filterHeight, info.filterWidth, info.outChannels] },
      );
    }
    return scope.transpose(grad, [1, 2, 0, 3]);
  });
};

/** Kernel config registered into the wasm backend by `enableWasmTraining`. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: WASM_BACKEND,
  kernelFunc: conv2DBackpropFilterKernel,
};
