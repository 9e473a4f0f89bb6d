import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs';

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { assertFloat32, assertShape } from './kernel-input-checks.js';
import { WASM_BACKEND } from './kernel-scope.js';

type Shape4 = [number, number, number, number];

/**
 * `MaxPoolGrad` for the wasm backend, replacing the shipped one, which is wrong in 4.22: it
 * starts each window's maximum at the smallest *positive* float (so a window of negative values,
 * or of ReLU zeros, sends its gradient to a fixed, wrong element) and breaks ties towards the
 * last maximum. This kernel routes each dy value to the first maximum of its window in
 * row-major order, exactly like the cpu backend, and is faster than the shipped loop too
 * (figures in docs/benchmarks.md).
 *
 * It is a plain JavaScript loop over views of the wasm heap rather than a composition of wasm
 * kernels: the argmax needs per-window tie-breaking that elementwise kernels cannot express
 * cheaply (wasm's `MaxPoolWithArgmax` shares the shipped kernel's wrong starting value).
 */
const maxPoolGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  assertFloat32(MaxPoolGrad, dy, 'dy');
  assertFloat32(MaxPoolGrad, input, 'input');
  const info = backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  assertShape(MaxPoolGrad, dy, 'dy', info.outShape);
  // Registered for 'wasm' only, so the backend (typed `{}` by tfjs) is BackendWasm. Working on
  // views of its heap avoids three copies of the tensors. The output is allocated first: an
  // allocation may grow the heap, which would detach views taken before it.
  const wasm = backend as BackendWasm;
  const out = wasm.makeOutput([...input.shape], 'float32');
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  routeToFirstMaximum(
    wasm.typedArrayFromHeap(input) as Float32Array,
    wasm.typedArrayFromHeap(dy) as Float32Array,
    dx,
    info,
  );
  return out;
};

function routeToFirstMaximum(
  x: Float32Array,
  grad: Float32Array,
  dx: Float32Array,
  info: backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  let gradAt = 0;
  // Hot loop: window positions are clipped to the input and gradAt runs over dy once, so every
  // read is in range and asserted rather than checked.
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      // Pooling windows are never dilated (computePool2DInfo is called with dilation 1), so a
      // window is a plain row/column range clipped to the input; padding holds no candidates.
      const rowStart = oh * strideHeight - top;
      const rowLo = Math.max(0, rowStart);
      const rowHi = Math.min(inHeight, rowStart + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const colStart = ow * strideWidth - left;
        const colLo = Math.max(0, colStart);
        const colHi = Math.min(inWidth, colStart + filterWidth);
        for (let c = 0; c < channels; c++) {
          // Same rule as the cpu backend: start below every value, strict '>' keeps the first
          // maximum in row-major order, and a window without a value > -Infinity routes nothing.
          let best = Number.NEGATIVE_INFINITY;
          let bestAt = -1;
          for (let row = rowLo; row < rowHi; row++) {
            let at = ((n * inHeight + row) * inWidth + colLo) * channels + c;
            for (let col = colLo; col < colHi; col++, at += channels) {
              const v = x[at]!;
              if (v > best) {
                best = v;
                bestAt = at;
              }
            }
          }
          if (bestAt >= 0) dx[bestAt] = dx[bestAt]! + grad[gradAt + c]!;
        }
        gradAt += channels;
      }
    }
  }
}

/** Kernel config registered into the wasm backend by `enableWasmTraining`. */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: WASM_BACKEND,
  kernelFunc: maxPoolGradKernel,
};
