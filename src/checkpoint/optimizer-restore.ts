import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { isVariable } from '../backends/tfjs-objects.js';
import { OPTIMIZER_BIN_FILE, OPTIMIZER_JSON_FILE, type CheckpointManifest } from './checkpoint-manifest.js';
import { writeFileDurable } from './durable-fs.js';
import { CheckpointMismatchError } from './errors.js';
import { encodeNamedWeights, type NamedWeight } from './named-weights.js';
import { readWeightsFile, type VerifiedFiles } from './verified-files.js';

/**
 * Writes the optimizer's slot variables and config into the checkpoint folder `dir`; returns
 * its class name.
 *
 * @example
 * ```ts
 * const className = await writeOptimizer(tmp, tf.train.adam(0.01)); // 'Adam'
 * ```
 */
export async function writeOptimizer(dir: string, optimizer: tf.Optimizer): Promise<string> {
  const weights = await optimizer.getWeights();
  try {
    const className = optimizer.getClassName();
    const { json, data } = await encodeNamedWeights(weights, { className, config: optimizer.getConfig() });
    await writeFileDurable(join(dir, OPTIMIZER_BIN_FILE), data);
    await writeFileDurable(join(dir, OPTIMIZER_JSON_FILE), JSON.stringify(json));
    return className;
  } finally {
    disposeTemporaries(weights);
  }
}

/**
 * Decodes the saved optimizer state and checks its class; returns the step that restores it,
 * so that nothing is assigned before every part of a load has been checked. Decoded tensors go
 * into `owned` for the caller to dispose.
 *
 * @example
 * ```ts
 * const apply = prepareOptimizer('iter-5', dir, manifest, files, optimizer, owned);
 * await apply();
 * ```
 */
export function prepareOptimizer(
  name: string,
  dir: string,
  manifest: CheckpointManifest,
  files: VerifiedFiles,
  optimizer: tf.Optimizer,
  owned: tf.Tensor[],
): () => Promise<void> {
  const className = optimizer.getClassName();
  if (manifest.optimizer !== className) {
    throw new CheckpointMismatchError(name, `it holds optimizer ${manifest.optimizer ?? 'none'}; the given optimizer is ${className}`);
  }
  const saved = readWeightsFile(name, dir, OPTIMIZER_JSON_FILE, OPTIMIZER_BIN_FILE, files, owned);
  return async () => {
    const before = await optimizer.getWeights();
    await optimizer.setWeights(saved);
    restoreRunningProducts(optimizer);
    const after = await optimizer.getWeights();
    // setWeights swaps in new slot variables without disposing the old ones; those that the
    // optimizer no longer reports are unreachable, so free them here.
    const live = new Set(after.map((w) => w.tensor));
    for (const { tensor } of before) {
      if (isVariable(tensor) && !live.has(tensor) && !tensor.isDisposed) tensor.dispose();
    }
    disposeTemporaries(before);
    disposeTemporaries(after);
  };
}

// getWeights() hands out the optimizer's own slot variables plus freshly created tensors
// (the iteration counter); only the latter belong to us.
function disposeTemporaries(weights: readonly NamedWeight[]): void {
  for (const { tensor } of weights) {
    if (!(isVariable(tensor)) && !tensor.isDisposed) tensor.dispose();
  }
}

/**
 * Adam and Adamax keep β^t as a running float32 product (`acc *= β` each step), but their
 * `setWeights` recomputes it as `pow(β, t + 1)`, which rounds differently: a resumed run would
 * drift from an uninterrupted one in the last bits. Recompute the product the way the steps did.
 */
function restoreRunningProducts(optimizer: tf.Optimizer): void {
  const o = optimizer as unknown as {
    iterations_?: number;
    beta1?: number;
    beta2?: number;
    accBeta1?: tf.Variable;
    accBeta2?: tf.Variable;
  };
  const t = o.iterations_;
  if (typeof t !== 'number') return;
  const product = (beta: number): number => {
    const b = Math.fround(beta);
    let acc = b;
    for (let i = 0; i < t; i++) acc = Math.fround(acc * b);
    return acc;
  };
  tf.tidy(() => {
    if (isVariable(o.accBeta1) && typeof o.beta1 === 'number') o.accBeta1.assign(tf.scalar(product(o.beta1)));
    if (isVariable(o.accBeta2) && typeof o.beta2 === 'number') o.accBeta2.assign(tf.scalar(product(o.beta2)));
  });
}
