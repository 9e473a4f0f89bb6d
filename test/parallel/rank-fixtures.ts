import type { GroupComm } from '../../src/parallel/group-comm.js';

/** A value each rank contributes at index i: different per rank, not round, some negative. */
export function contribution(rank: number, i: number): number {
  return Math.fround(Math.sin(rank * 7.1 + i * 0.37) * 1000 + rank / 3);
}

/** Every collective once; rank 0 returns what every rank got, to compare across ranks. */
export function collectives(args: { length: number }, comm: GroupComm): unknown {
  const data = Float32Array.from({ length: args.length }, (_, i) => contribution(comm.rank, i));
  const sum = Array.from(comm.allReduce(Float32Array.from(data), 'sum'));
  const mean = Array.from(comm.allReduce(Float32Array.from(data), 'mean'));
  const dict = comm.reduceDict({ b: comm.rank, a: comm.rank * 2 + 1, nan: comm.rank === 1 ? NaN : 0 });
  const gathered = comm.gather({ rank: comm.rank, inf: -Infinity });
  const everyone = comm.allGather({ sum, mean, dict, gatheredLength: gathered.length });
  return { everyone, gathered };
}

/** Each rank sleeps rank × 60 ms, then synchronizes: records when it arrived and when it left. */
export function arrivals(_args: unknown, comm: GroupComm): unknown {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, comm.rank * 60);
  const arrived = performance.timeOrigin + performance.now();
  comm.synchronize();
  const left = performance.timeOrigin + performance.now();
  return comm.allGather({ arrived, left });
}

/** Rank 1 fails before the collective the others wait in. */
export function rankOneThrows(_args: unknown, comm: GroupComm): void {
  if (comm.rank === 1) throw new Error('boom at step 3');
  comm.synchronize();
}

/** Ranks reduce arrays of different lengths. */
export function mismatchedLengths(_args: unknown, comm: GroupComm): void {
  comm.allReduce(new Float32Array(4 + comm.rank));
}

/** Rank 1 returns without the synchronize rank 0 waits in. */
export function rankOneLeaves(_args: unknown, comm: GroupComm): void {
  if (comm.rank !== 1) comm.synchronize();
}

/**
 * A linear regression replica: rank-dependent initial weights (broadcast makes them rank 0's)
 * and its own half of every global batch; `steps` steps of Adam. Rank 0 logs to `log` when
 * given. Returns every rank's final weights (from rank 0: all of them, in rank order).
 */
export async function trainReplica(args: { steps: number; worldSize: number; log: string | null; globalBatch: number }, comm: GroupComm): Promise<unknown> {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const { SimpleTrainer } = await import('../../src/engine/simple-trainer.js');
  // Unnamed: tfjs numbers them, so replicas' names differ; the trainer orders by its list.
  const w = tf.variable(tf.fill([3, 1], 0.1 * (comm.rank + 1)));
  const b = tf.variable(tf.scalar(-comm.rank));
  const per = args.globalBatch / args.worldSize;
  const batches = {
    *[Symbol.iterator]() {
      for (let step = 0; ; step++) {
        // The global batch of this step is the same for every world size; this rank takes its slice.
        const rows = Array.from({ length: per }, (_, k) => globalRow(step, comm.rank * per + k));
        yield { xs: tf.tensor2d(rows.map((r) => r.x)), ys: tf.tensor2d(rows.map((r) => [r.y])) };
      }
    },
  };
  const trainer = new SimpleTrainer(
    { loss: (batch: { xs: import('@tensorflow/tfjs').Tensor; ys: import('@tensorflow/tfjs').Tensor }) => tf.losses.meanSquaredError(batch.ys, batch.xs.matMul(w).add(b)) as import('@tensorflow/tfjs').Scalar, variables: [w, b] },
    batches,
    tf.train.adam(0.05),
    { comm, log: comm.rank === 0 ? args.log : null, runName: 'dp' },
  );
  await trainer.train(0, args.steps);
  const weights = [...w.dataSync(), ...b.dataSync()];
  return comm.allGather(weights);
}

/** Row `k` of global batch `step`: x in [-1, 1)³, y = x·(1, -2, 0.5) + 0.3 + noise. */
export function globalRow(step: number, k: number): { x: number[]; y: number } {
  const x = [0, 1, 2].map((j) => Math.sin(step * 12.9898 + k * 78.233 + j * 37.719) * 0.999);
  return { x, y: x[0]! - 2 * x[1]! + 0.5 * x[2]! + 0.3 + 0.01 * Math.cos(step * 3.1 + k) };
}
