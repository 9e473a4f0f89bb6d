import {
  type DataType,
  getKernel,
  type KernelBackend,
  type KernelConfig,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs';

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { WasmBackendUnavailableError } from './errors.js';

/** The backend every kernel of this folder runs on and calls into. */
export const WASM_BACKEND = 'wasm';

/**
 * Runs wasm kernels directly (not through `tf.*` ops) and owns what they return, so a composite
 * kernel can build its result from several wasm kernels and free every intermediate at once.
 *
 * Calling kernel functions directly skips the engine's tensor bookkeeping, tape and scopes: the
 * intermediates are plain backend data ids that only this scope knows about, which is what makes
 * composite kernels cheap and leak-free.
 */
export class KernelScope {
  readonly #backend: KernelBackend;
  readonly #owned: TensorInfo[] = [];

  constructor(backend: KernelBackend) {
    this.#backend = backend;
  }

  /** Runs the wasm kernel registered under `kernelName`; the scope owns the output. */
  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const config = getKernel(kernelName, WASM_BACKEND);
    if (config === undefined) {
      throw new WasmBackendUnavailableError(
        `kernel '${kernelName}' is not registered for the 'wasm' backend; expected ` +
          `@tensorflow/tfjs-backend-wasm to provide it`,
      );
    }
    return this.runConfig(config, inputs, attrs);
  }

  /** Runs a specific kernel config (e.g. the original one we replaced); the scope owns the output. */
  runConfig(config: KernelConfig, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const out = config.kernelFunc({ inputs, attrs, backend: this.#backend });
    // Every kernel used here has a single output; a list would mean a misuse we want to see.
    if (Array.isArray(out)) {
      throw new WasmBackendUnavailableError(
        `kernel '${config.kernelName}' returned ${out.length} outputs; expected a single output`,
      );
    }
    this.#owned.push(out);
    return out;
  }

  /** Uploads `values` as a new tensor owned by the scope (e.g. indices computed in JS). */
  constant(values: Int32Array | Float32Array, shape: readonly number[], dtype: DataType): TensorInfo {
    const info: TensorInfo = { dataId: this.#backend.write(values, [...shape], dtype), shape: [...shape], dtype };
    this.#owned.push(info);
    return info;
  }

  /**
   * Allocates an uninitialised tensor owned by the scope, for a kernel to fill through
   * {@link heapView}.
   */
  output(shape: readonly number[], dtype: DataType): TensorInfo {
    const info = (this.#backend as unknown as BackendWasm).makeOutput([...shape], dtype);
    this.#owned.push(info);
    return info;
  }

  /**
   * A view of `info`'s values in the wasm heap, valid until the next allocation (which may grow
   * the heap and detach it): take views after the outputs are allocated.
   */
  heapView(info: TensorInfo): Float32Array {
    if (info.dtype !== 'float32') {
      throw new WasmBackendUnavailableError(`heapView of a ${info.dtype} tensor; expected float32`);
    }
    return (this.#backend as unknown as BackendWasm).typedArrayFromHeap(info) as Float32Array;
  }

  /** Runs `Concat`, whose inputs are a list rather than named tensors. */
  concat(parts: readonly TensorInfo[], axis: number): TensorInfo {
    // The engine hands list-input kernels an array in place of the name map; do the same.
    return this.run('Concat', [...parts] as unknown as NamedTensorInfoMap, { axis });
  }

  /** Shorthand for the free `Reshape` kernel (it shares the data id, no copy). */
  reshape(x: TensorInfo, shape: readonly number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape: [...shape] });
  }

  /** Shorthand for `Transpose`; the wasm kernel returns a copy even for the identity permutation. */
  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm: [...perm] });
  }

  /** The leading `size` block of `x` (`Slice` from the origin), or `x` itself when that is all of it. */
  cropTo(x: TensorInfo, size: readonly number[]): TensorInfo {
    const whole = x.shape.length === size.length && x.shape.every((d, i) => d === size[i]);
    return whole ? x : this.run('Slice', { x }, { begin: size.map(() => 0), size: [...size] });
  }

  /** Gives up ownership of `info` so that {@link dispose} leaves it alive (the kernel's result). */
  release(info: TensorInfo): TensorInfo {
    const index = this.#owned.lastIndexOf(info);
    if (index >= 0) this.#owned.splice(index, 1);
    return info;
  }

  /** Frees every output still owned. Reshapes share data ids by reference count, so order is free. */
  dispose(): void {
    for (const info of this.#owned.splice(0)) this.#backend.disposeData(info.dataId);
  }
}

/**
 * Runs `body` with a fresh {@link KernelScope}; whatever `body` returns is released to the caller
 * and every other intermediate is freed, also when `body` throws.
 *
 * @example
 * ```ts
 * const kernelFunc: KernelFunc = ({ inputs, backend }) =>
 *   withKernelScope(backend, (scope) => scope.transpose(scope.reshape(inputs.x, [4, 8]), [1, 0]));
 * ```
 */
export function withKernelScope(
  backend: object,
  body: (scope: KernelScope) => TensorInfo,
): TensorInfo {
  // tfjs types the backend handed to kernel functions as `{}`; it is always a KernelBackend.
  const scope = new KernelScope(backend as KernelBackend);
  try {
    return scope.release(body(scope));
  } finally {
    scope.dispose();
  }
}
