import { mkdirSync } from 'node:fs';
import { clearDemoOutputs, markDemoDir } from './demo-outputs.js';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../engine/backend.js';
import { SimpleTrainer } from '../engine/simple-trainer.js';
import { loadMnist } from '../data/mnist.js';
import { ShuffledBatches, type Batch } from '../data/shuffled-batches.js';
import { buildDemoModel, evaluateAccuracy, type DemoModelKind } from './mnist-model.js';
import { IterationTimer } from '../hooks/iteration-timer.js';
import { LRScheduler } from '../hooks/lr-scheduler.js';
import { EvalHook } from '../hooks/eval-hook.js';
import { BestCheckpointer } from '../hooks/best-checkpointer.js';
import { PeriodicCheckpointer } from '../hooks/periodic-checkpointer.js';
import { PeriodicWriter } from '../hooks/periodic-writer.js';
import { ProgressBar } from '../hooks/progress-bar.js';
import { MemoryStats } from '../hooks/memory-stats.js';
import { JSONWriter } from '../writers/json-writer.js';
import { CommonMetricPrinter } from '../writers/common-metric-printer.js';
import { cosineLR, linearWarmup } from '../schedules/lr-schedule.js';
import { ofType } from '../operators/of-type.js';
import { every } from '../operators/every.js';
import { filter, tap } from 'rxjs';
import { consoleLogger, type Logger } from '../util/logger.js';

export interface MnistDemoOptions {
  /** Folder for everything the demo writes. Default `runs`. */
  readonly out?: string;
  readonly steps?: number;
  readonly batchSize?: number;
  readonly lr?: number;
  readonly evalPeriod?: number;
  readonly checkpointPeriod?: number;
  readonly seed?: number;
  readonly backend?: BackendChoice;
  readonly model?: DemoModelKind | 'auto';
  /** Start from empty outputs (default), or keep the existing log and add a run. */
  readonly fresh?: boolean;
  /** Continue the demo run from its newest checkpoint (implies fresh: false). */
  readonly resume?: boolean;
  readonly logger?: Logger;
  /** Show a progress bar (TTY only). Default true. */
  readonly progress?: boolean;
  readonly runName?: string;
}

export interface MnistDemoResult {
  readonly logPath: string;
  readonly runName: string;
  readonly liveMetrics: string;
  readonly checkpoints: string;
  readonly testAccuracy: number;
  readonly backend: string;
  readonly model: DemoModelKind;
  readonly seconds: number;
}

/**
 * Trains the demo network on the 10,000 real MNIST digits of the `mnist` package (seeded split:
 * 8,000 train / 2,000 test) with the standard hooks, writing the run to `<out>/demo.sqlite`.
 *
 * @example
 * ```ts
 * const result = await runMnistDemo({ steps: 600 });
 * console.log(result.testAccuracy);
 * ```
 */
export async function runMnistDemo(options: MnistDemoOptions = {}): Promise<MnistDemoResult> {
  const out = options.out ?? 'runs';
  const logger = options.logger ?? consoleLogger;
  const steps = options.steps ?? 1500;
  const batchSize = options.batchSize ?? 64;
  const lr = options.lr ?? 2e-3;
  const evalPeriod = options.evalPeriod ?? 250;
  const checkpointPeriod = options.checkpointPeriod ?? 500;
  const seed = options.seed ?? 7;
  const runName = options.runName ?? 'demo';
  const logPath = join(out, 'demo.sqlite');
  const demoDir = join(out, 'demo');
  if (!options.resume && (options.fresh ?? true)) {
    clearDemoOutputs(logPath, demoDir);
  }
  mkdirSync(demoDir, { recursive: true });
  markDemoDir(demoDir);
  const started = performance.now();

  const selection = await selectBackend(options.backend ?? 'auto', { logger });
  // The CNN needs convolution gradients: tfjs-node has them, wasm has them through trainledger's
  // kernels; on plain cpu it would take hours, so the MLP stands in.
  const kind: DemoModelKind = options.model === undefined || options.model === 'auto' ? (selection.backend === 'cpu' ? 'mlp' : 'cnn') : options.model;
  const split = loadMnist({ seed });
  logger.info(`MNIST: ${split.train.count} train / ${split.test.count} test digits (seed ${seed}); model: ${kind}; ${steps} steps of ${batchSize}`);

  const model = buildDemoModel(kind, seed);
  const batches = new ShuffledBatches({ images: split.train.images, labels: split.train.labels, batchSize, seed });
  const loss = (b: Batch): tf.Scalar => tf.losses.softmaxCrossEntropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor) as tf.Scalar;
  const trainer = new SimpleTrainer<Batch>({ loss, variables: model }, batches, tf.train.adam(lr), {
    log: logPath,
    runName,
    config: { dataset: 'mnist', seed, steps, batchSize, lr, model: kind, backend: selection.backend },
  });
  const checkpoints = join(demoDir, 'checkpoints');
  const liveMetrics = join(demoDir, 'live', 'metrics.json');
  const printerPeriod = Math.max(1, Math.min(100, Math.floor(steps / 10)));
  let testAccuracy = NaN;
  trainer.register(
    new IterationTimer(3, { logger }),
    new LRScheduler(linearWarmup(cosineLR(lr, steps, lr / 20), Math.min(50, Math.floor(steps / 10)))),
    new EvalHook(evalPeriod, () => {
      testAccuracy = evaluateAccuracy(model, split.test.images, split.test.labels);
      return { test: { accuracy: testAccuracy } };
    }),
    new BestCheckpointer(checkpoints, evalPeriod, 'test/accuracy', 'max', { logger }),
    new PeriodicCheckpointer(checkpoints, checkpointPeriod, { maxToKeep: 3 }),
    new MemoryStats(100),
    options.progress === false ? null : new ProgressBar(),
    new PeriodicWriter([new CommonMetricPrinter(steps, { logger }), new JSONWriter(liveMetrics)], printerPeriod),
    // Reactive hooks: a note at every evaluation, and a heartbeat line every 500 steps.
    (events$) =>
      events$.pipe(
        ofType('metric-recorded'),
        filter((e) => e.name === 'test/accuracy'),
        tap((e) => logger.info(`iteration ${e.iter}: test accuracy ${(e.value * 100).toFixed(2)}%`)),
      ),
    (events$) => events$.pipe(ofType('step-completed'), every(500), tap((e) => logger.info(`${e.iter + 1} steps done`))),
  );
  const start = options.resume ? await trainer.resumeOrLoad(checkpoints) : 0;
  if (options.resume && start < steps) logger.info(start > 0 ? `resuming run "${runName}" at iteration ${start}` : 'nothing to resume: starting a new run');
  if (start < steps) await trainer.train(start, steps);
  else testAccuracy = evaluateAccuracy(model, split.test.images, split.test.labels);
  trainer.dispose();
  model.dispose();
  return {
    logPath,
    runName,
    liveMetrics,
    checkpoints,
    testAccuracy,
    backend: selection.backend,
    model: kind,
    seconds: (performance.now() - started) / 1000,
  };
}
