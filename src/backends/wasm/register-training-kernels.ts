import '@tensorflow/tfjs-backend-wasm';

import {
  _FusedMatMul,
  BatchMatMul,
  Conv2DBackpropInput,
  GatherV2,
  getKernel,
  MaxPoolGrad,
  type KernelConfig,
  registerKernel,
  Slice,
  unregisterKernel,
} from '@tensorflow/tfjs';

import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseConv2dBackpropFilterConfig } from './depthwise-conv2d-backprop-filter.js';
import { depthwiseConv2dBackpropInputConfig } from './depthwise-conv2d-backprop-input.js';
import { WasmBackendUnavailableError } from './errors.js';
import { createFastBatchMatMulConfig, createFastFusedMatMulConfig } from './fast-batch-mat-mul.js';
import { createHeapGatherConfig } from './heap-gather.js';
import { createHeapSliceConfig } from './heap-slice.js';
import { WASM_BACKEND } from './kernel-scope.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';
import { locateWasmBinaries } from './wasm-binary-location.js';

/** Options of {@link enableWasmTraining}. */
export interface WasmTrainingOptions {
  /**
   * Replace shipped kernels that are slow or wrong (default true): `BatchMatMul` and
   * `_FusedMatMul` with versions that never take the scalar transposed/batched loop,
   * `Conv2DBackpropInput` with an XNNPACK convolution, `MaxPoolGrad` with a correct one, and
   * `Slice`/`GatherV2` (batching, embeddings) with copies that touch only the selected data.
   * False restores the shipped ones.
   */
  readonly replaceSlowKernels?: boolean;
  /**
   * Folder (with trailing separator) or URL prefix of the `.wasm` binaries. Omitted: the folder of
   * the installed `@tensorflow/tfjs-backend-wasm`. `null`: leave tfjs's own lookup (or an earlier
   * `setWasmPaths` call) alone. Ignored once the wasm backend has started.
   */
  readonly wasmPaths?: string | null;
}

/** What {@link enableWasmTraining} left registered. */
export interface WasmTrainingRegistration {
  /** Names of the wasm kernels now served by trainledger, in {@link wasmTrainingKernelNames} order. */
  readonly registered: string[];
}

/** Gradient kernels the shipped wasm backend lacks; registered only where still missing. */
const MISSING_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dBackpropFilterConfig,
  depthwiseConv2dBackpropInputConfig,
  unsortedSegmentSumConfig,
];

/**
 * Shipped kernels we replace, with the factory that builds our version from the shipped one.
 * Every replacement keeps the shipped `setupFunc`: the engine runs the setup of whatever is
 * registered when the backend starts, and the shipped kernel needs its setup to have run both
 * when we delegate to it and after `disableWasmTraining` puts it back.
 */
const REPLACED_KERNELS: ReadonlyArray<readonly [string, (shipped: KernelConfig) => KernelConfig]> = [
  [BatchMatMul, createFastBatchMatMulConfig],
  [_FusedMatMul, createFastFusedMatMulConfig],
  [Conv2DBackpropInput, (shipped) => ({ ...conv2DBackpropInputConfig, setupFunc: shipped.setupFunc })],
  [MaxPoolGrad, (shipped) => ({ ...maxPoolGradConfig, setupFunc: shipped.setupFunc })],
  [Slice, createHeapSliceConfig],
  [GatherV2, createHeapGatherConfig],
];

/** Kernel configs currently registered by us, to recognise them on a repeated call. */
const ours = new WeakSet<KernelConfig>();
/** The shipped configs we unregistered, to delegate to and to restore on disable. */
const shippedByName = new Map<string, KernelConfig>();

/**
 * Names of every wasm kernel trainledger can provide: the replacements of slow shipped kernels
 * and the missing gradients.
 *
 * @example
 * ```ts
 * wasmTrainingKernelNames(); // ['BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput', ...]
 * ```
 */
export function wasmTrainingKernelNames(): string[] {
  return [...REPLACED_KERNELS.map(([name]) => name), ...MISSING_KERNELS.map((c) => c.kernelName)];
}

/**
 * Makes TensorFlow.js's `wasm` backend able to train real networks, fast: registers the
 * gradient kernels it lacks (conv2d filter, depthwise conv2d filter and input, unsorted segment
 * sum) and replaces its matmuls, conv2d input gradient, max-pool gradient, slice and gather with
 * versions that avoid slow scalar loops and whole-tensor copies (and, for max-pool, a wrong
 * result). Idempotent, and works before or after `tf.setBackend('wasm')`: our kernels look other
 * kernels up on every call, and replacements carry the shipped setup function.
 *
 * A kernel that a future `@tensorflow/tfjs-backend-wasm` ships natively is left alone.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { enableWasmTraining } from 'trainledger';
 *
 * await enableWasmTraining();
 * await tf.setBackend('wasm');
 * await model.fit(xs, ys, { epochs: 1 }); // conv nets and embeddings now train on wasm
 * ```
 */
export async function enableWasmTraining(options: WasmTrainingOptions = {}): Promise<WasmTrainingRegistration> {
  locateWasmBinaries(options.wasmPaths);
  const replace = options.replaceSlowKernels ?? true;
  for (const [name, build] of REPLACED_KERNELS) {
    const current = getKernel(name, WASM_BACKEND);
    if (current === undefined) {
      throw new WasmBackendUnavailableError(
        `kernel '${name}' is not registered for the 'wasm' backend; expected ` +
          `@tensorflow/tfjs-backend-wasm to provide it`,
      );
    }
    const active = ours.has(current);
    if (replace && !active) {
      shippedByName.set(name, current);
      replaceKernel(name, build(current));
    } else if (!replace && active) {
      restoreShipped(name);
    }
  }
  for (const config of MISSING_KERNELS) {
    if (getKernel(config.kernelName, WASM_BACKEND) === undefined) {
      registerKernel(config);
      ours.add(config);
    }
  }
  return { registered: activeKernelNames() };
}

/**
 * Undoes {@link enableWasmTraining}: unregisters our kernels and restores the shipped ones we
 * replaced, e.g. to measure the backend as shipped. Safe to call when nothing is enabled.
 *
 * @example
 * ```ts
 * await enableWasmTraining();
 * disableWasmTraining(); // { unregistered: ['BatchMatMul', '_FusedMatMul', ...] }
 * ```
 */
export function disableWasmTraining(): { readonly unregistered: string[] } {
  const unregistered = activeKernelNames();
  for (const name of unregistered) {
    if (shippedByName.has(name)) {
      restoreShipped(name);
    } else {
      unregisterKernel(name, WASM_BACKEND);
    }
  }
  return { unregistered };
}

function activeKernelNames(): string[] {
  return wasmTrainingKernelNames().filter((name) => {
    const current = getKernel(name, WASM_BACKEND);
    return current !== undefined && ours.has(current);
  });
}

function replaceKernel(name: string, config: KernelConfig): void {
  // Unregister first: registerKernel on a taken name only warns and overwrites, and the warning
  // would print on every enable.
  unregisterKernel(name, WASM_BACKEND);
  registerKernel(config);
  ours.add(config);
}

function restoreShipped(name: string): void {
  const shipped = shippedByName.get(name);
  unregisterKernel(name, WASM_BACKEND);
  if (shipped !== undefined) {
    registerKernel(shipped);
    shippedByName.delete(name);
  }
}
