/**
 * The training process tools/crash-test.ts kills: a small MLP on MNIST with checkpoints, a
 * JSON writer and the durable log, resuming from its newest checkpoint when started again.
 *
 *   node --import tsx tools/crash-child.ts <dir> <steps>
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SimpleTrainer } from '../src/engine/simple-trainer.js';
import { loadMnist } from '../src/data/mnist.js';
import { ShuffledBatches, type Batch } from '../src/data/shuffled-batches.js';
import { IterationTimer } from '../src/hooks/iteration-timer.js';
import { LRScheduler } from '../src/hooks/lr-scheduler.js';
import { EvalHook } from '../src/hooks/eval-hook.js';
import { PeriodicCheckpointer } from '../src/hooks/periodic-checkpointer.js';
import { PeriodicWriter } from '../src/hooks/periodic-writer.js';
import { JSONWriter } from '../src/writers/json-writer.js';
import { cosineLR } from '../src/schedules/lr-schedule.js';
import { evaluateAccuracy } from '../src/demo/mnist-model.js';
import { memoryLogger } from '../src/util/logger.js';

const [dir, stepsText] = process.argv.slice(2);
const steps = Number(stepsText ?? 300);
tf.env().set('PROD', true);
await tf.setBackend('cpu');
const split = loadMnist({ seed: 11, trainSize: 2000, testSize: 300 });
const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 32, activation: 'relu', kernelInitializer: init(1) }), tf.layers.dense({ units: 10, kernelInitializer: init(2) })] });
const data = new ShuffledBatches({ images: split.train.images, labels: split.train.labels, batchSize: 32, seed: 3 });
const loss = (b: Batch) => tf.losses.softmaxCrossEntropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor) as tf.Scalar;
const trainer = new SimpleTrainer<Batch>({ loss, variables: model }, data, tf.train.adam(3e-3), { log: join(dir!, 'log.sqlite'), runName: 'crash' });
trainer.register(
  new IterationTimer(3, { logger: memoryLogger() }),
  new LRScheduler(cosineLR(3e-3, steps)),
  new EvalHook(50, () => ({ test: { accuracy: evaluateAccuracy(model, split.test.images, split.test.labels) } })),
  new PeriodicCheckpointer(join(dir!, 'ckpt'), 20),
  new PeriodicWriter([new JSONWriter(join(dir!, 'metrics.json'))], 10),
);
const start = await trainer.resumeOrLoad(join(dir!, 'ckpt'));
process.stdout.write(`start ${start}\n`);
if (start < steps) await trainer.train(start, steps);
process.stdout.write('done\n');
