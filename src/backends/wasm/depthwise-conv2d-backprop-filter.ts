import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';

import { convOutSize, filterGradPadding } from './conv-geometry.js';
import { assertFloat32, assertShape } from './kernel-input-checks.js';
import { WASM_BACKEND, withKernelScope } from './kernel-scope.js';

type Shape4 = [number, number, number, number];

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
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const kernel = DepthwiseConv2dNativeBackpropFilter;
  assertFloat32(kernel, x, 'x');
  assertFloat32(kernel, dy, 'dy');
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  assertShape(kernel, dy, 'dy', info.outShape);
  const [batch, height, width, channels] = x.shape as Shape4;
  const multiplier = info.outChannels / info.inChannels;
  const rows = filterGradPadding({
    inSize: height,
    outSize: info.outHeight,
    filterSize: info.filterHeight,
    stride: info.strideHeight,
    dilation: info.dilationHeight,
    padBefore: info.padInfo.top,
  });
  const cols = filterGradPadding({
    inSize: width,
    outSize: info.outWidth,
    filterSize: info.filterWidth,
    stride: info.strideWidth,
    dilation: info.dilationWidth,
    padBefore: info.padInfo.left,
  });

  return withKernelScope(backend, (scope) => {
    const pairs = batch * channels;
    // [1, H, W, N·C]: one channel per (sample, channel) pair.
    const xT = scope.reshape(scope.transpose(x, [1, 2, 0, 3]), [1, height, width, pairs]);
    // [OH, OW, N·C, M]: dy as a per-pair filter whose taps are the forward output positions.
    const dyT = scope.reshape(scope.transpose(dy, [1, 2, 0, 3]), [info.outHeight, info.outWidth, pairs, multiplier]);
    const perPair = scope.run(
      'DepthwiseConv2dNative',
      { x: xT, filter: dyT },
      {
        strides: [info.dilationHeight, info.dilationWidth],
        dilations: [info.strideHeight, info.strideWidth],
        pad: [
          [0, 0],
          [rows.before, rows.after],
          [cols.before, cols.after],
          [0, 0],
        ],
      },
    );
    const taps = [
      convOutSize(height + rows.before + rows.after, info.outHeight, info.dilationHeight, info.strideHeight),
      convOutSize(width + cols.before + cols.after, info.outWidth, info.dilationWidth, info.strideWidth),
    ];
    let grad = scope.reshape(perPair, [taps[0], taps[1], batch, channels * multiplier]);
    if (taps[0] !== info.filterHeight || taps[1] !== info.filterWidth) {
      // Trailing input rows the forward pass never reached produced extra (meaningless) taps.
      grad = scope.run(
        'Slice',
        { x: grad },
        { begin: [0, 0, 0, 0], size: [info.filterHeight, info.filterWidth, batch, channels * multiplier] },
      );
    }
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
