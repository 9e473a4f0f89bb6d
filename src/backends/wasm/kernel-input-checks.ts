import type { DataType, TensorInfo } from '@tensorflow/tfjs';

import { UnsupportedKernelInputError } from './errors.js';

/**
 * Throws unless `t` has one of `dtypes`. The wasm kernels we build on compute in float32 only,
 * so the check turns a silent garbage result into an error naming the input.
 *
 * @example
 * ```ts
 * assertDtype('UnsortedSegmentSum', x, 'x', ['float32', 'int32']);
 * ```
 */
export function assertDtype(
  kernelName: string,
  t: TensorInfo,
  name: string,
  dtypes: readonly DataType[],
): void {
  if (!dtypes.includes(t.dtype)) {
    throw new UnsupportedKernelInputError(
      `${kernelName} input '${name}' has dtype '${t.dtype}'; expected ${dtypes.map((d) => `'${d}'`).join(' or ')}`,
    );
  }
}

/** Throws unless `t` is float32.  *
 * @example
 * ```ts
 * assertFloat32('Conv2DBackpropFilter', dy, 'dy');
 * ```
 */
export function assertFloat32(kernelName: string, t: TensorInfo, name: string): void {
  assertDtype(kernelName, t, name, ['float32']);
}

/**
 * Throws unless `t` has exactly `shape`. Kernels are reachable without the op-level checks
 * (`engine().runKernel`), and XNNPACK would read out of bounds on a mismatched shape.
 *
 * @example
 * ```ts
 * assertShape('MaxPoolGrad', dy, 'dy', convInfo.outShape);
 * ```
 */
export function assertShape(
  kernelName: string,
  t: TensorInfo,
  name: string,
  shape: readonly number[],
): void {
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!same) {
    throw new UnsupportedKernelInputError(
      `${kernelName} input '${name}' has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}]`,
    );
  }
}
