/**
 * Shared helpers of the wasm kernel tests: run one kernel on the cpu backend (the reference) and
 * on the wasm backend (with trainledger's kernels), compare, and check that nothing leaked.
 */
import assert from 'node:assert/strict';

import * as tf from '@tensorflow/tfjs';

import { must } from '../../helpers.js';

import { enableWasmTraining } from '../../../src/backends/wasm/index.js';

/** Host-side tensor description, so the same data can be uploaded to either backend. */
export interface HostTensor {
  readonly values: Float32Array | Int32Array;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
}

export interface KernelResult {
  readonly values: Float32Array | Int32Array | Uint8Array;
  readonly shape: readonly number[];
  readonly dtype: string;
}

/**
 * Enables trainledger's wasm kernels, makes wasm the active backend and starts the cpu backend
 * for references. IS_TEST keeps tfjs's banners quiet and makes the engine check every kernel
 * for data ids it leaked.
 */
export async function useWasmWithCpuReference(): Promise<void> {
  tf.env().set('IS_TEST', true);
  await enableWasmTraining();
  assert.equal(await tf.setBackend('wasm'), true, 'the wasm backend should start');
  assert.notEqual(tf.findBackend('cpu'), null, 'the cpu backend should start');
}

/**
 * Like {@link useWasmWithCpuReference}, for whole training steps: tfjs's IS_TEST leak check
 * misfires on wasm for custom-gradient ops (`fused.matMul` saves clones, and wasm's Identity
 * copies, so the check counts 3 "leaked" data ids even with the shipped kernels), so it is
 * turned off; PROD keeps the banners quiet instead, and tests count tensors themselves.
 */
export async function useWasmForTraining(): Promise<void> {
  await useWasmWithCpuReference();
  tf.env().set('IS_TEST', false);
  tf.env().set('PROD', true);
}

/** Deterministic pseudo-random numbers (mulberry32) so failures reproduce. */
export function randomValues(count: number, seed: number, low = -1, high = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = low + (high - low) * unit;
  }
  return out;
}

/** A float32 host tensor of the given shape filled with seeded values in [-1, 1). */
export function randomTensor(shape: readonly number[], seed: number): HostTensor {
  return { values: randomValues(shape.reduce((a, b) => a * b, 1), seed), shape, dtype: 'float32' };
}

/** Runs `kernelName` directly on the cpu backend (no engine, no tape): the reference result. */
export function runOnCpu(kernelName: string, inputs: Record<string, HostTensor>, attrs: object): KernelResult {
  const cpu = tf.findBackend('cpu');
  assert.ok(cpu, 'the cpu backend is started by useWasmWithCpuReference');
  const infos: Record<string, tf.TensorInfo> = {};
  for (const [name, t] of Object.entries(inputs)) {
    infos[name] = { dataId: cpu.write(t.values, [...t.shape], t.dtype), shape: [...t.shape], dtype: t.dtype };
  }
  const kernel = tf.getKernel(kernelName, 'cpu');
  assert.ok(kernel, `cpu kernel ${kernelName}`);
  const out = kernel.kernelFunc({ inputs: infos, backend: cpu, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const values = cpu.readSync(out.dataId) as KernelResult['values'];
  const result = { values: values.slice(), shape: [...out.shape], dtype: out.dtype };
  cpu.disposeData(out.dataId);
  for (const info of Object.values(infos)) cpu.disposeData(info.dataId);
  return result;
}

/**
 * Runs `kernelName` on the active (wasm) backend through the engine, as ops do, and asserts
 * that the engine's tensor count and the backend's data-id count are unchanged afterwards: our
 * kernels keep intermediates as bare data ids that only the backend count would reveal.
 */
export function runOnWasm(kernelName: string, inputs: Record<string, HostTensor>, attrs: object): KernelResult {
  assert.equal(tf.getBackend(), 'wasm');
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) tensors[name] = tf.tensor(t.values, [...t.shape], t.dtype);
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = tf.engine().backend.numDataIds();
  const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { values: out.dataSync().slice() as KernelResult['values'], shape: [...out.shape], dtype: out.dtype };
  out.dispose();
  assert.equal(tf.memory().numTensors, tensorsBefore, `${kernelName} left engine tensors behind`);
  assert.equal(tf.engine().backend.numDataIds(), idsBefore, `${kernelName} left backend data behind`);
  tf.dispose(Object.values(tensors));
  return result;
}

/**
 * Like {@link runOnWasm} for a kernel function that is not (or not now) the registered one, such
 * as one strategy of a kernel: called directly with the wasm backend, with the same leak checks.
 */
export function runKernelFuncOnWasm(kernelFunc: tf.KernelFunc, inputs: Record<string, HostTensor>, attrs: object): KernelResult {
  assert.equal(tf.getBackend(), 'wasm');
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) tensors[name] = tf.tensor(t.values, [...t.shape], t.dtype);
  const idsBefore = tf.engine().backend.numDataIds();
  const info = kernelFunc({ inputs: tensors, backend: tf.engine().backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const out = tf.engine().makeTensorFromTensorInfo(info);
  const result = { values: out.dataSync().slice() as KernelResult['values'], shape: [...out.shape], dtype: out.dtype };
  out.dispose();
  assert.equal(tf.engine().backend.numDataIds(), idsBefore, 'the kernel left backend data behind');
  tf.dispose(Object.values(tensors));
  return result;
}

/**
 * Asserts |actual − expected| ≤ tolerance · max(1, max|expected|) element-wise, i.e. a tolerance
 * relative to the result's scale: float32 sums over many terms reorder differently on each
 * backend, so absolute agreement is only meaningful relative to the magnitudes involved.
 */
export function assertCloseToReference(
  actual: KernelResult,
  expected: KernelResult,
  tolerance: number,
  context: string,
): void {
  assert.deepEqual(actual.shape, expected.shape, `shape (${context})`);
  assert.equal(actual.values.length, expected.values.length, `size (${context})`);
  let scale = 1;
  for (const v of expected.values) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.values.length; i++) {
    const diff = Math.abs(must(actual.values[i], `actual[${i}]`) - must(expected.values[i], `expected[${i}]`));
    if (!(diff <= worst)) {
      worst = diff;
      worstAt = i;
    }
  }
  assert.ok(
    worst <= tolerance * scale,
    `max |wasm − cpu| = ${worst} at ${worstAt} exceeds ${tolerance} × ${scale} (${context}): ` +
      `wasm ${actual.values[worstAt]}, cpu ${expected.values[worstAt]}`,
  );
}

/** Relative tolerance every kernel comparison states: 1e-4 of the result's largest magnitude. */
export const TOLERANCE = 1e-4;

/** Number of random cases per property; small shapes keep each file to a few seconds. */
export const RUNS = 40;
