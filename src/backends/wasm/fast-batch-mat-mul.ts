import {
  _FusedMatMul,
  type _FusedMatMulAttrs,
  BatchMatMul,
  type BatchMatMulAttrs,
  broadcast_util,
  type DataId,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs';

import { UnsupportedKernelInputError } from './errors.js';
import { type KernelScope, WASM_BACKEND, withKernelScope } from './kernel-scope.js';

/**
 * Per-matrix work (M·K·N multiply-adds) above which a batched product is split into one fast
 * 2-D product per batch entry. Below it the shipped kernel's single loop wins over the
 * per-entry gather/concat overhead.
 */
const SPLIT_BATCH_MIN_WORK = 32 * 32 * 32;

/**
 * Relative costs per element of the two copies a product can need besides the multiply-adds
 * (the same whatever the operand order): XNNPACK repacking its right operand (cached per tensor,
 * so only a first use pays it) and a wasm `Transpose`. Only their ratio matters to the choices
 * below; the measured figures are in docs/benchmarks.md.
 */
const PACK_COST = 10;
const TRANSPOSE_COST = 3;

/**
 * Builds the fast `BatchMatMul` around the shipped one.
 *
 * The shipped wasm kernel reaches XNNPACK's GEMM only for a single, untransposed product;
 * anything transposed or batched runs a scalar blocked loop, far slower than an explicit
 * `Transpose` followed by the XNNPACK path. Training hits exactly those cases: dense-layer gradients are
 * `dy·Wᵀ` and `xᵀ·dy`. This kernel rewrites every case into untransposed 2-D products.
 *
 * @example
 * ```ts
 * const shipped = getKernel('BatchMatMul', 'wasm');
 * unregisterKernel('BatchMatMul', 'wasm');
 * registerKernel(createFastBatchMatMulConfig(shipped));
 * ```
 */
export function createFastBatchMatMulConfig(shipped: KernelConfig): KernelConfig {
  const products = new RightOperandCache();
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    const plan = planProduct(a, b, transposeA, transposeB);
    if (plan === undefined) return shipped.kernelFunc({ inputs, backend, attrs });
    return withKernelScope(backend, (scope) =>
      batchProduct(new MatrixProducts(scope, shipped, {}, products), a, b, transposeA, transposeB, plan),
    );
  };
  return { kernelName: BatchMatMul, backendName: WASM_BACKEND, kernelFunc, setupFunc: shipped.setupFunc };
}

/**
 * Builds the fast `_FusedMatMul` (matMul + bias + activation) around the shipped one.
 *
 * While gradients are recorded tfjs fuses only the linear activation, so in training this is
 * "product + bias" with weights that changed since the last step: it is computed like
 * `BatchMatMul` (choosing the cheaper operand order) plus a broadcast `Add`. Other activations
 * (inference) use the shipped fused kernel on its XNNPACK path: transposed operands are
 * transposed explicitly and batched `a` against a single `b` is flattened. The shipped kernel's
 * other path adds the wrong bias element to every row but the first (4.22), so products with
 * a batch on both sides are computed per entry, with bias and activation as separate kernels.
 *
 * @example
 * ```ts
 * const shipped = getKernel('_FusedMatMul', 'wasm');
 * unregisterKernel('_FusedMatMul', 'wasm');
 * registerKernel(createFastFusedMatMulConfig(shipped));
 * ```
 */
export function createFastFusedMatMulConfig(shipped: KernelConfig): KernelConfig {
  const products = new RightOperandCache();
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs as {
      a: TensorInfo;
      b: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as _FusedMatMulAttrs;
    const plan = planProduct(a, b, transposeA, transposeB, { splitSmallBatches: true });
    if (plan === undefined || (bias !== undefined && bias.shape.length !== 1)) {
      return shipped.kernelFunc({ inputs, backend, attrs });
    }
    const flattenable = plan.batchB === 1 && (plan.batchA === 1 || preluActivationWeights === undefined);
    if (activation !== 'linear' && flattenable) {
      if (!transposeA && !transposeB && plan.batchA === 1) return shipped.kernelFunc({ inputs, backend, attrs });
      return withKernelScope(backend, (scope) => {
        const rowsA = stackedRows(scope, a, plan.batchA, transposeA);
        const bMatrix = transposeB ? scope.transpose(matrixView(scope, b), [1, 0]) : matrixView(scope, b);
        const fusedInputs: NamedTensorInfoMap = {
          ...inputs,
          a: scope.reshape(rowsA, [1, ...rowsA.shape]),
          b: scope.reshape(bMatrix, [1, ...bMatrix.shape]),
        };
        const plainAttrs: NamedAttrMap = { ...attrs, transposeA: false, transposeB: false };
        return scope.reshape(scope.runConfig(shipped, fusedInputs, plainAttrs), plan.outShape);
      });
    }
    return withKernelScope(backend, (scope) => {
      // The shipped fused kernel without bias and with 'linear' is the plain XNNPACK product.
      const plain = new MatrixProducts(scope, shipped, { activation: 'linear', leakyreluAlpha: 0 }, products);
      const product = batchProduct(plain, a, b, transposeA, transposeB, plan);
      const biased = bias === undefined ? product : scope.run('Add', { a: product, b: bias });
      return applyActivation(scope, biased, activation, preluActivationWeights, leakyreluAlpha);
    });
  };
  return { kernelName: _FusedMatMul, backendName: WASM_BACKEND, kernelFunc, setupFunc: shipped.setupFunc };
}

/** The fused activations as separate wasm kernels (same set the shipped fused kernel accepts). */
function applyActivation(
  scope: KernelScope,
  x: TensorInfo,
  activation: _FusedMatMulAttrs['activation'],
  preluWeights: TensorInfo | undefined,
  leakyreluAlpha: number | undefined,
): TensorInfo {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return scope.run('Relu', { x });
    case 'relu6':
      return scope.run('Relu6', { x });
    case 'elu':
      return scope.run('Elu', { x });
    case 'sigmoid':
      return scope.run('Sigmoid', { x });
    case 'leakyrelu':
      return scope.run('LeakyRelu', { x }, { alpha: leakyreluAlpha ?? 0.2 });
    case 'prelu':
      if (preluWeights === undefined) {
        throw new UnsupportedKernelInputError(
          `_FusedMatMul activation 'prelu' has no 'preluActivationWeights' input; expected one`,
        );
      }
      return scope.run('Prelu', { x, alpha: preluWeights });
    default:
      throw new UnsupportedKernelInputError(
        `_FusedMatMul activation '${String(activation)}' is not supported on wasm; expected one of ` +
          `linear, relu, relu6, elu, sigmoid, leakyrelu, prelu`,
      );
  }
}

/** Shapes of a (batched) product, or undefined when the shipped kernel should handle it. */
interface ProductPlan {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly batchA: number;
  readonly batchB: number;
  readonly outShape: number[];
}

function planProduct(
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  options: { readonly splitSmallBatches: boolean } = { splitSmallBatches: false },
): ProductPlan | undefined {
  // Only float32 reaches XNNPACK; odd ranks, mismatched inner sizes and empty tensors keep the
  // shipped kernel so users see its own errors and edge-case behaviour.
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [a0, a1] = matrixShape(a);
  const [b0, b1] = matrixShape(b);
  const m = transposeA ? a1 : a0;
  const k = transposeA ? a0 : a1;
  const n = transposeB ? b0 : b1;
  const kB = transposeB ? b1 : b0;
  if (k !== kB || m * k * n === 0) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  // Batch broadcasting other than "one side is a single matrix" stays with the shipped kernel.
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  if (batchA === batchB && batchA > 1 && outerA.join() !== outerB.join()) return undefined;
  if (batchA === batchB && batchA > 1 && !options.splitSmallBatches && m * k * n < SPLIT_BATCH_MIN_WORK) {
    return undefined;
  }
  const outerShape = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  return { m, k, n, batchA, batchB, outShape: [...outerShape, m, n] };
}

/** op(a)·op(b) for any planned product, as untransposed 2-D products. */
function batchProduct(
  product: MatrixProducts,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  plan: ProductPlan,
): TensorInfo {
  const scope = product.scope;
  const { m, n, batchA, batchB, outShape } = plan;
  if (batchA === 1 && batchB === 1) {
    return scope.reshape(product.multiply(matrixView(scope, a), matrixView(scope, b), transposeA, transposeB), outShape);
  }
  if (batchB === 1) {
    // Every batch entry of `a` meets the same matrix b: stack a's rows into one product.
    const rowsA = stackedRows(scope, a, batchA, transposeA);
    return scope.reshape(product.multiply(rowsA, matrixView(scope, b), false, transposeB), outShape);
  }
  if (batchA === 1) {
    // (A·Bᵢ)ᵀ = Bᵢᵀ·Aᵀ: stack every Bᵢᵀ's rows, multiply once by Aᵀ, transpose back per entry.
    const rowsBT = stackedRows(scope, b, batchB, !transposeB);
    const outT = product.multiply(rowsBT, matrixView(scope, a), false, !transposeA);
    return scope.reshape(scope.transpose(scope.reshape(outT, [batchB, n, m]), [0, 2, 1]), outShape);
  }
  // Same batch shape on both sides, large matrices: one product per entry.
  const a3 = scope.reshape(a, [batchA, ...a.shape.slice(-2)]);
  const b3 = scope.reshape(b, [batchB, ...b.shape.slice(-2)]);
  const entries: TensorInfo[] = [];
  for (let i = 0; i < batchA; i++) {
    const index = scope.constant(Int32Array.of(i), [1], 'int32');
    const ai = scope.reshape(gatherEntry(scope, a3, index), a3.shape.slice(1));
    const bi = scope.reshape(gatherEntry(scope, b3, index), b3.shape.slice(1));
    entries.push(scope.reshape(product.multiply(ai, bi, transposeA, transposeB), [1, m, n]));
  }
  return scope.reshape(scope.concat(entries, 0), outShape);
}

/** The last two axes of `x` as a 2-D view (no copy). */
function matrixView(scope: KernelScope, x: TensorInfo): TensorInfo {
  return scope.reshape(x, x.shape.slice(-2));
}

/**
 * All batch entries of `x` stacked row-wise as one [batch·rows, cols] matrix, where an entry is
 * transposed first when `transposed` says it is stored as [cols, rows].
 */
function stackedRows(scope: KernelScope, x: TensorInfo, batch: number, transposed: boolean): TensorInfo {
  const [r, c] = matrixShape(x);
  if (!transposed) return scope.reshape(x, [batch * r, c]);
  const entries = scope.reshape(x, [batch, r, c]);
  return scope.reshape(scope.transpose(entries, [0, 2, 1]), [batch * c, r]);
}

/** Rows and columns of `x`'s matrices: its last two axes (callers pass rank ≥ 2). */
function matrixShape(x: TensorInfo): [rows: number, cols: number] {
  const rows = x.shape[x.shape.length - 2];
  const cols = x.shape[x.shape.length - 1];
  if (rows === undefined || cols === undefined) {
    throw new UnsupportedKernelInputError(`BatchMatMul operand has shape [${x.shape.join(', ')}]; expected rank 2 or more`);
  }
  return [rows, cols];
}

/** Entry `index` (a one-element int32 tensor) of the first axis, via wasm's C++ gather. */
function gatherEntry(scope: KernelScope, x: TensorInfo, index: TensorInfo): TensorInfo {
  return scope.run('GatherV2', { x, indices: index }, { axis: 0, batchDims: 0 });
}

/**
 * Which tensors XNNPACK has (or will soon have) packed as a right operand. The shipped kernel
 * caches its packed copy of the right operand per tensor, so using the same weights again costs
 * nothing; a tensor seen for the first time (training: weights change every step) costs a full
 * repack, comparable to the product itself.
 */
class RightOperandCache {
  /** Tensors offered as an untransposed right operand before: reuse is likely, repack once. */
  readonly #seen = new WeakSet<DataId>();

  /** Repacking cost of using `x` (of `size` elements) as the right operand, and notes the offer. */
  packCost(x: TensorInfo, size: number): number {
    if (this.#seen.has(x.dataId)) return 0;
    this.#seen.add(x.dataId);
    return PACK_COST * size;
  }
}

/**
 * 2-D products computed only with the shipped kernel's fast untransposed path. A product
 * op(A)·op(B) is computed either directly (transposing stored operands as needed) or as
 * (op(B)ᵀ·op(A)ᵀ)ᵀ; the variant with fewer transposed and repacked elements is chosen.
 */
class MatrixProducts {
  readonly scope: KernelScope;
  readonly #shipped: KernelConfig;
  readonly #attrs: NamedAttrMap;
  readonly #cache: RightOperandCache;

  /**
   * @param shipped the shipped kernel doing untransposed products (`BatchMatMul`, or
   *   `_FusedMatMul` with `attrs` making it a plain product)
   */
  constructor(scope: KernelScope, shipped: KernelConfig, attrs: NamedAttrMap, cache: RightOperandCache) {
    this.scope = scope;
    this.#shipped = shipped;
    this.#attrs = attrs;
    this.#cache = cache;
  }

  /** `op(a)·op(b)` for 2-D `a`, `b`, where op transposes when the flag is set. */
  multiply(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
    const s = this.scope;
    const [a0, a1] = matrixShape(a);
    const [b0, b1] = matrixShape(b);
    const m = transposeA ? a1 : a0;
    const k = transposeA ? a0 : a1;
    const n = transposeB ? b0 : b1;
    // Direct: left op(A), right op(B). A stored operand is usable as is when it is already in the
    // needed orientation; otherwise it is a fresh transposed copy, which XNNPACK must repack.
    const direct =
      (transposeA ? TRANSPOSE_COST * m * k : 0) +
      (transposeB ? (TRANSPOSE_COST + PACK_COST) * k * n : this.#cache.packCost(b, k * n));
    // Swapped: left op(B)ᵀ, right op(A)ᵀ, result transposed back.
    const swapped =
      (transposeB ? 0 : TRANSPOSE_COST * k * n) +
      (transposeA ? this.#cache.packCost(a, m * k) : (TRANSPOSE_COST + PACK_COST) * m * k) +
      TRANSPOSE_COST * m * n;
    if (direct <= swapped) {
      return this.#plain(transposeA ? s.transpose(a, [1, 0]) : a, transposeB ? s.transpose(b, [1, 0]) : b);
    }
    const left = transposeB ? b : s.transpose(b, [1, 0]);
    const right = transposeA ? a : s.transpose(a, [1, 0]);
    return s.transpose(this.#plain(left, right), [1, 0]);
  }

  #plain(a: TensorInfo, b: TensorInfo): TensorInfo {
    const s = this.scope;
    const out = s.runConfig(
      this.#shipped,
      { a: s.reshape(a, [1, ...a.shape]), b: s.reshape(b, [1, ...b.shape]) },
      { ...this.#attrs, transposeA: false, transposeB: false },
    );
    return s.reshape(out, [matrixShape(a)[0], matrixShape(b)[1]]);
  }
}
