import {
  type KernelConfig,
  type KernelFunc,
  Slice,
  type SliceAttrs,
  slice_util,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { UnsupportedKernelInputError } from './errors.js';
import { WASM_BACKEND } from './kernel-scope.js';

/**
 * Builds a `Slice` for the wasm backend that copies only the slice, replacing the shipped one,
 * which first copies the *whole* source tensor out of wasm memory (`readSync`) and then slices
 * that copy in JavaScript: a cost that grows with the dataset, not the batch, and made
 * hand-written training loops that batch with `tf.slice` slower than `model.fit` (figures in
 * docs/benchmarks.md).
 *
 * The copy works on views of the wasm heap: one `set` when the slice is contiguous, otherwise
 * one `set` per contiguous run along the innermost axes that the slice does not cut.
 *
 * @example
 * ```ts
 * const shipped = getKernel('Slice', 'wasm');
 * unregisterKernel('Slice', 'wasm');
 * registerKernel(createHeapSliceConfig(shipped));
 * ```
 */
export function createHeapSliceConfig(shipped: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    if (x.dtype === 'string' || x.dtype === 'complex64') return shipped.kernelFunc({ inputs, backend, attrs });
    const { begin, size } = attrs as unknown as SliceAttrs;
    const [start, extent] = slice_util.parseSliceParams(x, begin, size);
    if (start === undefined || extent === undefined) {
      throw new UnsupportedKernelInputError(`Slice of [${x.shape.join(', ')}] got no begin/size from tfjs's parseSliceParams; expected both`);
    }
    slice_util.assertParamsValid(x, start, extent);
    // Registered for 'wasm' only, so the backend (typed `{}` by tfjs) is BackendWasm. The output
    // is allocated before any heap view is taken: an allocation may grow (and detach) the heap.
    const wasm = backend as BackendWasm;
    const out = wasm.makeOutput(extent, x.dtype);
    if (util.sizeFromShape(extent) === 0) return out;
    copySlice(wasm.typedArrayFromHeap(x), x.shape, start, extent, wasm.typedArrayFromHeap(out));
    return out;
  };
  return { kernelName: Slice, backendName: WASM_BACKEND, kernelFunc, setupFunc: shipped.setupFunc };
}

type Flat = ArrayLike<number> & { subarray(begin: number, end: number): Flat; set(source: Flat, offset: number): void };

function copySlice(
  src: Flat,
  shape: readonly number[],
  start: readonly number[],
  extent: readonly number[],
  dst: Flat,
): void {
  const rank = shape.length;
  if (rank === 0) {
    dst.set(src.subarray(0, 1), 0);
    return;
  }
  const strides = util.computeStrides([...shape]);
  // Per-run loops below: every axis index is < rank, the length of shape, start, extent and
  // strides (which has rank - 1 entries, the last axis being 1), so reads are asserted.
  const stride = (axis: number): number => (axis === rank - 1 ? 1 : strides[axis]!);
  // Innermost axes that the slice keeps whole, plus the first one it cuts, are contiguous in the
  // source: copy them as one run.
  let runAxis = rank - 1;
  while (runAxis > 0 && extent[runAxis] === shape[runAxis]) runAxis--;
  const run = util.sizeFromShape(extent.slice(runAxis));
  const srcBase = start.reduce((sum, at, axis) => sum + at * stride(axis), 0);
  const counter = new Array<number>(runAxis).fill(0);
  const runs = util.sizeFromShape(extent.slice(0, runAxis));
  let dstAt = 0;
  for (let r = 0; r < runs; r++) {
    let srcAt = srcBase;
    for (let axis = 0; axis < runAxis; axis++) srcAt += counter[axis]! * stride(axis);
    dst.set(src.subarray(srcAt, srcAt + run), dstAt);
    dstAt += run;
    // Odometer over the outer axes, last one fastest.
    for (let axis = runAxis - 1; axis >= 0; axis--) {
      const next = counter[axis]! + 1;
      if (next < extent[axis]!) {
        counter[axis] = next;
        break;
      }
      counter[axis] = 0;
    }
  }
}
