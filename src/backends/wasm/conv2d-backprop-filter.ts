import { type backend_util, Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

import { filterGradConvAttrs, filterGradPaddings } from './conv-geometry.js';
import { filterPatches } from './filter-patches.js';
import { forwardConv, type Shape4 } from './forward-conv.js';
import { type KernelScope, WASM_BACKEND, withKernelScope } from './kernel-scope.js';

/**
 * `Conv2DBackpropFilter` (the gradient of `conv2d` with respect to its filter) for the wasm
 * backend, which does not ship one, computed one of two ways (see {@link filterGradStrategy}):
 *
 * - 'convolution': dW[fh, fw, c, oc] = Σ_{n, oh, ow} x[n, oh·s + fh, ow·s + fw, c] · dy[n, oh, ow, oc]
 *   is itself a convolution: take `x` with channels as batch and batch as channels ([C, H, W, N]),
 *   and `dy` as the filter ([OH, OW, N, OC]); the forward stride becomes the dilation. XNNPACK
 *   then does the whole reduction as one GEMM, far faster than im2col from wasm's Slice/Concat
 *   kernels or its `Conv3DBackpropFilterV2` loop (also wrong for strided 'valid' inputs in 4.22);
 *   figures in docs/benchmarks.md. `x` as the filter instead leaves the GEMM only C output columns.
 * - 'patches': the patch matrix of `x` written by JavaScript straight into the wasm heap
 *   ({@link filterPatches}), times `dy`, one plain matrix product.
 *
 * @example
 * ```ts
 * registerKernel({ kernelName: Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2DBackpropFilterKernel('auto') });
 * ```
 */
export const conv2DBackpropFilterKernel = (strategy: FilterGradStrategy): KernelFunc => ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const forward = { depthwise: false, strides, pad, dataFormat, dimRoundingMode } as const;
  const { info, channelsLast } = forwardConv(Conv2DBackpropFilter, { x, dy }, x.shape as Shape4, filterShape, forward);
  return withKernelScope(backend, (scope) =>
    (strategy === 'auto' ? filterGradStrategy(info) : strategy) === 'patches'
      ? byPatches(scope, x, dy, info, channelsLast)
      : byConvolution(scope, x, dy, info, channelsLast),
  );
};

/** How {@link conv2DBackpropFilterKernel} computes a gradient; tests force each one. */
export type FilterGradStrategy = 'auto' | 'patches' | 'convolution';

/** Largest patch matrix (in floats, 16 MB) the 'patches' strategy builds. */
const MAX_PATCH_FLOATS = 1 << 22;

/** Most taps (FH·FW·C) the 'patches' strategy takes on. */
const MAX_PATCH_TAPS = 16;

/**
 * The strategy `'auto'` picks: 'patches' when a filter has at most 16 taps (FH·FW·C: 1×1
 * convolutions of up to 16 channels, 3×3 on one channel) and its patch matrix has at most 4M
 * floats; 'convolution' otherwise. The convolution hands XNNPACK a filter of `dy`'s size that
 * gives only FH·FW·C output rows, which its tiles serve badly when they are so few; the patch
 * matrix costs a copy of `x` per tap, which grows past the convolution's cost quickly. The rule
 * keeps to the clear wins of `npm run bench:kernels` (figures in docs/benchmarks.md).
 *
 * @example
 * ```ts
 * filterGradStrategy(info); // 'patches' for x [64, 14, 14, 16] and a 1×1×16×64 filter
 * ```
 */
export function filterGradStrategy(info: backend_util.Conv2DInfo): 'patches' | 'convolution' {
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const positions = info.batchSize * info.outHeight * info.outWidth;
  return taps <= MAX_PATCH_TAPS && taps * positions <= MAX_PATCH_FLOATS ? 'patches' : 'convolution';
}

/** dW = patches(x) · dy: one plain matrix product, already in the filter's layout. */
function byPatches(scope: KernelScope, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo, channelsLast: boolean): TensorInfo {
  const positions = info.batchSize * info.outHeight * info.outWidth;
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const patches = filterPatches(scope, x, info, channelsLast);
  const dyRows = channelsLast ? dy : scope.transpose(dy, [0, 2, 3, 1]);
  const product = scope.run(
    'BatchMatMul',
    { a: scope.reshape(patches, [1, taps, positions]), b: scope.reshape(dyRows, [1, positions, info.outChannels]) },
    { transposeA: false, transposeB: false },
  );
  return scope.reshape(product, [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels]);
}

function byConvolution(scope: KernelScope, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo, channelsLast: boolean): TensorInfo {
  const padding = filterGradPaddings(info);
  // [C, H, W, N]: the input channels become the batch, the batch becomes the reduced channels.
  const xT = scope.transpose(x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
  // [OH, OW, N, OC]: dy becomes a filter whose taps are the forward output positions.
  const dyT = scope.transpose(dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
  const grad = scope.run('Conv2D', { x: xT, filter: dyT }, { ...filterGradConvAttrs(info, padding), dataFormat: 'NHWC' });
  // Trailing input rows the forward pass never reached produce extra (meaningless) taps.
  const taps = scope.cropTo(grad, [info.inChannels, info.filterHeight, info.filterWidth, info.outChannels]);
  return scope.transpose(taps, [1, 2, 0, 3]);
}

/** Kernel config registered into the wasm backend by `enableWasmTraining`. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: WASM_BACKEND,
  kernelFunc: conv2DBackpropFilterKernel('auto'),
};
