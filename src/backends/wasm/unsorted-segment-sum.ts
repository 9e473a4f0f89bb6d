import {
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  UnsortedSegmentSum,
  type UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs';

import { UnsupportedKernelInputError } from './errors.js';
import { assertDtype } from './kernel-input-checks.js';
import { WASM_BACKEND, withKernelScope } from './kernel-scope.js';

/**
 * `UnsortedSegmentSum` for the wasm backend, which does not ship one (it is the gradient of
 * `gather`, hence of embeddings).
 *
 * out[s, ...] = Σ_{i : ids[i] = s} x[i, ...] is exactly wasm's `ScatterNd` with `ids` as
 * one-dimensional indices: it zero-fills its output and accumulates duplicate indices in C++.
 * ScatterNd does not bounds-check, so ids are read (they are small) and any id outside
 * [0, numSegments) is routed to a spare row that is dropped, matching the cpu backend, which
 * ignores such ids.
 */
const unsortedSegmentSumKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  assertDtype(UnsortedSegmentSum, x, 'x', ['float32', 'int32']);
  assertDtype(UnsortedSegmentSum, segmentIds, 'segmentIds', ['int32']);
  const count = segmentIds.shape[0];
  if (segmentIds.shape.length !== 1 || x.shape.length < 1 || count === undefined || count !== x.shape[0]) {
    throw new UnsupportedKernelInputError(
      `UnsortedSegmentSum input 'segmentIds' has shape [${segmentIds.shape.join(', ')}]; expected ` +
        `a rank-1 tensor as long as the first axis of 'x' (shape [${x.shape.join(', ')}])`,
    );
  }
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new UnsupportedKernelInputError(
      `UnsortedSegmentSum attribute 'numSegments' is ${numSegments}; expected a non-negative integer`,
    );
  }
  const rest = x.shape.slice(1);
  // Kernel backends are typed `{}` by tfjs; reading ids is the one backend call made here.
  const ids = (backend as KernelBackend).readSync(segmentIds.dataId) as Int32Array;
  let allValid = true;
  for (let i = 0; i < count; i++) {
    const id = ids[i]!; // i < count, the length of ids
    if (id < 0 || id >= numSegments) {
      allValid = false;
      break;
    }
  }

  return withKernelScope(backend, (scope) => {
    if (allValid) {
      return scope.run(
        'ScatterNd',
        { indices: scope.reshape(segmentIds, [count, 1]), updates: x },
        { shape: [numSegments, ...rest] },
      );
    }
    const routed = Int32Array.from(ids.subarray(0, count), (id) =>
      id >= 0 && id < numSegments ? id : numSegments,
    );
    const indices = scope.constant(routed, [count, 1], 'int32');
    const withSpare = scope.run('ScatterNd', { indices, updates: x }, { shape: [numSegments + 1, ...rest] });
    return scope.cropTo(withSpare, [numSegments, ...rest]);
  });
};

/** Kernel config registered into the wasm backend by `enableWasmTraining`. */
export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: WASM_BACKEND,
  kernelFunc: unsortedSegmentSumKernel,
};
