import {
  backend_util,
  GatherV2,
  type GatherV2Attrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { UnsupportedKernelInputError } from './errors.js';
import { WASM_BACKEND } from './kernel-scope.js';

/**
 * Slices at least this long are copied with one typed-array `set`; shorter ones element by
 * element, where the call overhead of `subarray`/`set` would dominate.
 */
const BLOCK_COPY_MIN = 16;

/**
 * Builds a `GatherV2` for the wasm backend that copies whole slices on views of the wasm heap,
 * replacing the shipped C++ loop that computes every element's address separately, which made
 * gathering a batch (what `model.fit` does for every batch, and what embeddings do) costly
 * (figures in docs/benchmarks.md).
 * Out-of-range indices throw, as with the shipped kernel and the cpu backend.
 *
 * @example
 * ```ts
 * const shipped = getKernel('GatherV2', 'wasm');
 * unregisterKernel('GatherV2', 'wasm');
 * registerKernel(createHeapGatherConfig(shipped));
 * ```
 */
export function createHeapGatherConfig(shipped: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    if (x.dtype === 'string' || x.dtype === 'complex64' || indices.dtype !== 'int32') {
      return shipped.kernelFunc({ inputs, backend, attrs });
    }
    const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
    const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
    const axisSize = parsedAxis === undefined ? undefined : x.shape[parsedAxis];
    if (parsedAxis === undefined || axisSize === undefined) {
      throw new UnsupportedKernelInputError(`GatherV2 axis ${String(axis)} is not an axis of 'x' [${x.shape.join(', ')}]`);
    }
    const info = backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, batchDims);
    // Registered for 'wasm' only, so the backend (typed `{}` by tfjs) is BackendWasm. The output
    // is allocated before any heap view is taken: an allocation may grow (and detach) the heap.
    const wasm = backend as BackendWasm;
    const out = wasm.makeOutput(info.outputShape, x.dtype);
    const ids = wasm.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!; // i < ids.length
      if (id < 0 || id >= axisSize) {
        wasm.disposeData(out.dataId);
        throw new UnsupportedKernelInputError(
          `GatherV2 index ${id} (at position ${i}) is outside [0, ${axisSize - 1}], the range of axis ${parsedAxis} of 'x'`,
        );
      }
    }
    if (util.sizeFromShape(info.outputShape) === 0) return out;
    const src = wasm.typedArrayFromHeap(x);
    const dst = wasm.typedArrayFromHeap(out);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const perBatch = ids.length / batchSize;
    let dstAt = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let o = 0; o < outerSize; o++) {
        const base = (b * outerSize + o) * dimSize;
        for (let i = 0; i < perBatch; i++) {
          // Hot loop: indices were range-checked above, and every slice lies inside x and out.
          const srcAt = (base + ids[b * perBatch + i]!) * sliceSize;
          if (sliceSize >= BLOCK_COPY_MIN) {
            dst.set(src.subarray(srcAt, srcAt + sliceSize), dstAt);
          } else {
            for (let e = 0; e < sliceSize; e++) dst[dstAt + e] = src[srcAt + e]!;
          }
          dstAt += sliceSize;
        }
      }
    }
    return out;
  };
  return { kernelName: GatherV2, backendName: WASM_BACKEND, kernelFunc, setupFunc: shipped.setupFunc };
}
