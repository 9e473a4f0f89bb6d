import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * Rank `rank`'s share of every batch of `batches`: rows `[rank·n/w, (rank+1)·n/w)` of each tensor
 * of the batch (a batch of `n` rows, `w` ranks), the rest disposed. Every rank iterating the same
 * batches (same data, same seed) then trains on the same global batch as one process would,
 * split across the replicas. A batch whose rows do not divide by `worldSize` is refused.
 *
 * @example
 * ```ts
 * const data = shardBatches(new ShuffledBatches({ images, labels, batchSize: 64, seed: 1 }), comm.rank, comm.worldSize);
 * ```
 */
export function* shardBatches<B extends Record<keyof B, tf.Tensor>>(batches: Iterable<B>, rank: number, worldSize: number): Generator<B> {
  if (!Number.isInteger(worldSize) || worldSize < 1 || !Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new InvalidArgumentError(`shardBatches needs 0 ≤ rank < worldSize, got rank ${String(rank)} of ${String(worldSize)}`);
  }
  let index = 0;
  for (const batch of batches) {
    if (worldSize === 1) {
      yield batch;
    } else {
      const out: Record<string, tf.Tensor> = {};
      for (const [key, t] of Object.entries(batch) as Array<[string, tf.Tensor]>) {
        const rows = t.shape[0] ?? 0;
        if (rows % worldSize !== 0) throw new InvalidArgumentError(`batch ${index}: ${key} has ${rows} rows, which ${worldSize} ranks cannot share evenly`);
        const per = rows / worldSize;
        out[key] = tf.slice(t, rank * per, per);
        t.dispose();
      }
      yield out as B;
    }
    index++;
  }
}
