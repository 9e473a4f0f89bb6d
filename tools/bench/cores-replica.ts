/**
 * One replica of bench:cores (tools/bench/cores.ts): what every rank runs, rank 0 on the bench's
 * thread and the others in worker threads. A module of its own: the bench cannot be imported by
 * its own launch while its top-level await is pending.
 */
import * as tf from '@tensorflow/tfjs';
import type { GroupComm } from '../../src/parallel/group-comm.js';
import { shardBatches } from '../../src/parallel/shard-batches.js';

export interface Args {
  readonly model: 'cnn' | 'mlp';
  readonly steps: number;
  readonly warmup: number;
  readonly accuracy: boolean;
}

export async function replica(args: Args, comm: GroupComm): Promise<{ stepsPerSecond: number; accuracy: number | null }> {
  const { selectBackend } = await import('../../src/engine/backend.js');
  await selectBackend('wasm', { logger: null });
  const { loadMnist } = await import('../../src/data/mnist.js');
  const { ShuffledBatches } = await import('../../src/data/shuffled-batches.js');
  const { buildDemoModel, evaluateAccuracy } = await import('../../src/demo/mnist-model.js');
  const { SimpleTrainer } = await import('../../src/engine/simple-trainer.js');
  const { CallbackHook } = await import('../../src/hooks/callback-hook.js');
  const seed = 1;
  const split = loadMnist({ seed });
  const model = buildDemoModel(args.model, seed);
  const batches = shardBatches(new ShuffledBatches({ images: split.train.images, labels: split.train.labels, batchSize: 64, seed }), comm.rank, comm.worldSize);
  const loss = (b: { xs: tf.Tensor; ys: tf.Tensor }): tf.Scalar => tf.losses.softmaxCrossEntropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor) as tf.Scalar;
  const trainer = new SimpleTrainer({ loss, variables: model }, batches, tf.train.adam(2e-3), { comm });
  let started = 0;
  trainer.register(
    new CallbackHook({
      beforeStep: (t) => {
        if (t.iter === args.warmup) {
          comm.synchronize();
          started = performance.now();
        }
      },
    }),
  );
  await trainer.train(0, args.warmup + args.steps);
  comm.synchronize();
  const seconds = (performance.now() - started) / 1000;
  const accuracy = args.accuracy && comm.isMainProcess() ? evaluateAccuracy(model, split.test.images, split.test.labels) : null;
  trainer.dispose();
  return { stepsPerSecond: args.steps / seconds, accuracy };
}

