/**
 * The demo's model and data (MNIST, batch 64, Adam, cosine LR) trained three ways in one
 * process, interleaved, median steps/s of repeats:
 *   (a) the fastest hand-written tfjs loop we know (see the wasm issue's findings): batches
 *       uploaded from host arrays, tidy(variableGrads + applyGradients), one loss read per step
 *   (b) SimpleTrainer with the demo's hooks: IterationTimer, LRScheduler, MemoryStats,
 *       PeriodicWriter(printer, JSONWriter) and the durable log of every scalar
 *   (c) tfjs `model.fit` on the same data, with a callback doing the equivalent work (LR
 *       schedule, loss recorded every batch)
 * No evaluation runs in any of them (it would cost all three the same). Targets: b/a ≥ 0.98,
 * b/c ≥ 1.0.
 *
 *   npm run bench:train [-- --steps 250 --repeats 3 --model cnn|mlp --backend wasm]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../../src/engine/backend.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { loadMnist } from '../../src/data/mnist.js';
import { ShuffledBatches, type Batch } from '../../src/data/shuffled-batches.js';
import { buildDemoModel, type DemoModelKind } from '../../src/demo/mnist-model.js';
import { IterationTimer } from '../../src/hooks/iteration-timer.js';
import { LRScheduler, setLearningRate } from '../../src/hooks/lr-scheduler.js';
import { MemoryStats } from '../../src/hooks/memory-stats.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { CommonMetricPrinter } from '../../src/writers/common-metric-printer.js';
import { cosineLR } from '../../src/schedules/lr-schedule.js';
import { memoryLogger } from '../../src/util/logger.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const STEPS = Number(arg('steps', '250'));
const REPEATS = Number(arg('repeats', '3'));
tf.env().set('PROD', true);
const selection = await selectBackend(arg('backend', 'auto') as BackendChoice, { logger: null });
const KIND = arg('model', selection.backend === 'cpu' ? 'mlp' : 'cnn') as DemoModelKind;
const split = loadMnist({ seed: 7 });
const LR = 2e-3;
const schedule = cosineLR(LR, STEPS);
const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));

function setup(): { model: tf.Sequential; opt: tf.Optimizer; batches: ShuffledBatches; loss: (b: Batch) => tf.Scalar } {
  const model = buildDemoModel(KIND, 7);
  const opt = tf.train.adam(LR);
  const batches = new ShuffledBatches({ images: split.train.images, labels: split.train.labels, batchSize: 64, seed: 7 });
  const loss = (b: Batch): tf.Scalar => tf.losses.softmaxCrossEntropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor) as tf.Scalar;
  return { model, opt, batches, loss };
}

function handWritten(): number {
  const { model, opt, batches, loss } = setup();
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const losses = new Float64Array(STEPS);
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) {
    setLearningRate(opt, schedule(i));
    const b = batches.next().value as Batch;
    const value = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => loss(b), vars);
      opt.applyGradients(grads);
      return value;
    });
    losses[i] = value.dataSync()[0]!;
    value.dispose();
    b.xs.dispose();
    b.ys.dispose();
  }
  const s = STEPS / ((performance.now() - t0) / 1000);
  model.dispose();
  opt.dispose();
  return s;
}

async function trainer(rep: number): Promise<number> {
  const { model, opt, batches, loss } = setup();
  const t = new SimpleTrainer<Batch>({ loss, variables: model }, batches, opt, { log: join(dir, `run${rep}.sqlite`) });
  t.register(
    new IterationTimer(3, { logger: memoryLogger() }),
    new LRScheduler(schedule),
    new MemoryStats(100),
    new PeriodicWriter([new CommonMetricPrinter(STEPS, { logger: memoryLogger() }), new JSONWriter(join(dir, `m${rep}.json`))], 20),
  );
  const t0 = performance.now();
  await t.train(0, STEPS);
  const s = STEPS / ((performance.now() - t0) / 1000);
  t.dispose();
  model.dispose();
  opt.dispose();
  return s;
}

async function fit(): Promise<number> {
  const { model, opt } = setup();
  model.compile({ optimizer: opt, loss: (yt: tf.Tensor, yp: tf.Tensor) => tf.losses.softmaxCrossEntropy(yt, yp) });
  const n = split.train.count - (split.train.count % 64);
  const xs = tf.tensor2d(split.train.images.subarray(0, n * 784), [n, 784]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(split.train.labels.subarray(0, n), 'int32'), 10).toFloat());
  const perEpoch = n / 64;
  const epochs = Math.ceil(STEPS / perEpoch);
  const losses: number[] = [];
  let step = 0;
  const t0 = performance.now();
  await model.fit(xs, ys, {
    batchSize: 64,
    epochs,
    shuffle: false,
    verbose: 0,
    callbacks: {
      onBatchBegin: async () => {
        setLearningRate(opt, schedule(step));
      },
      onBatchEnd: async (_b, logs) => {
        losses.push(logs?.loss as number);
        step++;
        if (step >= STEPS) model.stopTraining = true;
      },
    },
  });
  const s = step / ((performance.now() - t0) / 1000);
  xs.dispose();
  ys.dispose();
  model.dispose();
  return s;
}

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
const a: number[] = [];
const b: number[] = [];
const c: number[] = [];
// Warm-up: kernels, XNNPACK caches, JIT.
handWritten();
await trainer(-1);
await fit();
for (let r = 0; r < REPEATS; r++) {
  a.push(handWritten());
  b.push(await trainer(r));
  c.push(await fit());
}
rmSync(dir, { recursive: true, force: true });
const [ma, mb, mc] = [median(a), median(b), median(c)];
const f = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(' ');
console.log(`MNIST ${KIND}, batch 64, Adam, ${STEPS} steps × ${REPEATS} repeats (median), backend ${selection.backend}, tfjs ${tf.version.tfjs}`);
console.log(`(a) hand-written tfjs loop       ${ma.toFixed(1)} steps/s  [${f(a)}]`);
console.log(`(b) trainer + demo hooks + log   ${mb.toFixed(1)} steps/s  [${f(b)}]`);
console.log(`(c) model.fit + callback         ${mc.toFixed(1)} steps/s  [${f(c)}]`);
console.log(`b/a = ${(mb / ma).toFixed(3)} (target ≥ 0.98)   b/c = ${(mb / mc).toFixed(3)} (target ≥ 1.0)`);
