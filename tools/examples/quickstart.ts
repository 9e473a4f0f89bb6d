// The README's quickstart, kept compiling and runnable.
import * as tf from '@tensorflow/tfjs';
import { tap } from 'rxjs';
import {
  SimpleTrainer, selectBackend, ShuffledBatches, IterationTimer, LRScheduler, EvalHook,
  PeriodicWriter, CommonMetricPrinter, JSONWriter, cosineLR, ofType, every, type Batch,
} from '../../src/index.js';                                     // 'trainledger'
import { loadMnist, evaluateAccuracy } from '../../src/demo/index.js'; // 'trainledger/demo'

await selectBackend('auto');                                   // tfjs-node if installed, else wasm, else cpu
const { train, test } = loadMnist({ seed: 1 });
const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }), tf.layers.dense({ units: 10 })] });
const loss = (b: Batch) => tf.losses.softmaxCrossEntropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor) as tf.Scalar;
const data = new ShuffledBatches({ images: train.images, labels: train.labels, batchSize: 64, seed: 1 });
const trainer = new SimpleTrainer({ loss, variables: model }, data, tf.train.adam(2e-3), { log: 'runs/mine.sqlite', runName: 'mlp' });
trainer.register(
  new IterationTimer(),
  new LRScheduler(cosineLR(2e-3, 1000)),
  new EvalHook(250, () => ({ accuracy: evaluateAccuracy(model, test.images, test.labels) })),
  new PeriodicWriter([new CommonMetricPrinter(1000), new JSONWriter('runs/mine/metrics.json')], 20),
  (events$) => events$.pipe(ofType('step-completed'), every(100), tap((e) => console.log('step', e.iter))),
);
await trainer.train(0, 1000);
