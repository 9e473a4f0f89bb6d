import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../tf-setup.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { IterationTimer } from '../../src/hooks/iteration-timer.js';
import { LRScheduler } from '../../src/hooks/lr-scheduler.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { CommonMetricPrinter } from '../../src/writers/common-metric-printer.js';
import { constantLR } from '../../src/schedules/lr-schedule.js';
import { memoryLogger } from '../../src/util/logger.js';
import { tempDir } from '../helpers.js';

// The keys of a training line of detectron2's metrics.json for a model returning the losses
// {loss_a, loss_b}, with DefaultTrainer's hooks (IterationTimer, LRScheduler, PeriodicWriter of
// CommonMetricPrinter and JSONWriter), read from detectron2 at 02b5c4e:
//   engine/train_loop.py  SimpleTrainer.write_metrics: put_scalar("rank_data_time"), put_scalar("data_time"),
//                         put_scalar("total_loss"), put_scalars(**metrics_dict) (each loss, as there are two)
//   engine/hooks.py       IterationTimer.after_step: put_scalars(time=...); LRScheduler.after_step: put_scalar("lr", ...)
//   utils/events.py       CommonMetricPrinter._get_eta: put_scalar("eta_seconds", ...);
//                         JSONWriter.write: {"iteration": iter, **scalars put at iter}
const DETECTRON2_TRAINING_LINE_KEYS = ['data_time', 'eta_seconds', 'iteration', 'loss_a', 'loss_b', 'lr', 'rank_data_time', 'time', 'total_loss'];

test("a training line of metrics.json carries the keys detectron2's SimpleTrainer and default hooks write", async () => {
  const dir = tempDir();
  const w = tf.variable(tf.scalar(0.5));
  function* data() {
    for (;;) yield { x: tf.tensor1d([1, 2]) };
  }
  const trainer = new SimpleTrainer<{ x: tf.Tensor1D }>(
    { loss: (b) => ({ loss_a: b.x.mul(w).square().mean() as tf.Scalar, loss_b: w.square() as tf.Scalar }), variables: [w] },
    data(),
    tf.train.sgd(0.01),
  );
  trainer.register(
    new IterationTimer(3, { logger: memoryLogger() }),
    new LRScheduler(constantLR(0.01)),
    new PeriodicWriter([new CommonMetricPrinter(40, { logger: memoryLogger() }), new JSONWriter(join(dir, 'metrics.json'))], 20),
  );
  await trainer.train(0, 40);
  w.dispose();
  const lines = readFileSync(join(dir, 'metrics.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.deepEqual(lines.map((l) => l.iteration), [19, 39]);
  for (const line of lines) assert.deepEqual(Object.keys(line).sort(), DETECTRON2_TRAINING_LINE_KEYS);
  // One process: this worker's data time is the slowest worker's.
  assert.deepEqual(lines.map((l) => l.rank_data_time), lines.map((l) => l.data_time));
});
