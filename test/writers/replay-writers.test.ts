import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { tf } from '../tf-setup.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { EvalHook } from '../../src/hooks/eval-hook.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { IterationTimer } from '../../src/hooks/iteration-timer.js';
import { LRScheduler } from '../../src/hooks/lr-scheduler.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { CSVWriter } from '../../src/writers/csv-writer.js';
import { TensorBoardWriter } from '../../src/writers/tensorboard-writer.js';
import { replayWriters, recordedWriterIds } from '../../src/projections/replay-writers.js';
import { readEventFile } from '../../src/writers/tensorboard/event-file-reader.js';
import { cosineLR } from '../../src/schedules/lr-schedule.js';
import { LogFile } from '../../src/log/log-file.js';
import { memoryLogger } from '../../src/util/logger.js';
import { tempDir } from '../helpers.js';

async function liveRun(dir: string) {
  const w = tf.variable(tf.scalar(0.1));
  function* data() {
    for (let i = 0; ; i++) yield { x: tf.tensor1d([1, 2, 3]), y: tf.tensor1d([3, 6, 9 + (i % 3)]) };
  }
  const trainer = new SimpleTrainer<{ x: tf.Tensor1D; y: tf.Tensor1D }>(
    { loss: (b) => ({ mse: tf.losses.meanSquaredError(b.y, b.x.mul(w)) as tf.Scalar, l2: w.square().mul(0.01) as tf.Scalar }), variables: [w] },
    data(),
    tf.train.sgd(0.01),
    { log: join(dir, 'run.sqlite'), runName: 'live' },
  );
  trainer.register(
    new IterationTimer(3, { logger: memoryLogger() }),
    new LRScheduler(cosineLR(0.01, 60)),
    new EvalHook(25, () => ({ val: { acc: Math.random() } })),
    new PeriodicWriter([new JSONWriter(join(dir, 'live', 'metrics.json')), new CSVWriter(join(dir, 'live', 'metrics.csv')), new TensorBoardWriter(join(dir, 'live', 'tb'), { fileName: 'events.out.tfevents.live' })], 10),
  );
  await trainer.train(0, 60);
  w.dispose();
}

test('JSON, CSV and TensorBoard writers replayed from the log reproduce the live files', async () => {
  const dir = tempDir();
  await liveRun(dir);
  const log = LogFile.open(join(dir, 'run.sqlite'), { readonly: true });
  const run = log.run('live');
  const ids = recordedWriterIds(log, run.id).sort();
  assert.deepEqual(ids, [`csv:${join(dir, 'live', 'metrics.csv')}`, `json:${join(dir, 'live', 'metrics.json')}`, `tensorboard:${join(dir, 'live', 'tb')}`]);
  replayWriters(log, run.id, [
    new JSONWriter(join(dir, 'replay', 'metrics.json'), { id: `json:${join(dir, 'live', 'metrics.json')}` }),
    new CSVWriter(join(dir, 'replay', 'metrics.csv'), { id: `csv:${join(dir, 'live', 'metrics.csv')}` }),
    new TensorBoardWriter(join(dir, 'replay', 'tb'), { id: `tensorboard:${join(dir, 'live', 'tb')}`, fileName: 'events.out.tfevents.live' }),
  ]);
  log.close();
  const live = readFileSync(join(dir, 'live', 'metrics.json'), 'utf8');
  assert.equal(readFileSync(join(dir, 'replay', 'metrics.json'), 'utf8'), live);
  assert.deepEqual(live.trim().split("\n").map((l) => JSON.parse(l).iteration), [9, 19, 24, 29, 39, 49, 59, 60]);
  assert.equal(readFileSync(join(dir, 'replay', 'metrics.csv'), 'utf8'), readFileSync(join(dir, 'live', 'metrics.csv'), 'utf8'));
  assert.deepEqual(readFileSync(join(dir, 'replay', 'tb', 'events.out.tfevents.live')), readFileSync(join(dir, 'live', 'tb', 'events.out.tfevents.live')));
});

test('the TensorBoard file decodes to the smoothed scalars at their iterations', async () => {
  const dir = tempDir();
  await liveRun(dir);
  const events = readEventFile(join(dir, 'live', 'tb', readdirSync(join(dir, 'live', 'tb'))[0]!));
  assert.equal(events[0]!.kind, 'fileVersion');
  const summaries = events.filter((e) => e.kind === 'summary');
  const steps = [...new Set(summaries.map((e) => e.step))];
  assert.deepEqual(steps, [9, 19, 24, 29, 39, 49, 59, 60]);
  const tags = new Set(summaries.flatMap((e) => (e.kind === 'summary' ? e.values.map((v) => v.tag) : [])));
  for (const t of ['total_loss', 'mse', 'l2', 'lr', 'time', 'data_time', 'val/acc']) assert.ok(tags.has(t), t);
});

test('the CSV writer writes every raw sample once, in long format', async () => {
  const dir = tempDir();
  await liveRun(dir);
  const lines = readFileSync(join(dir, 'live', 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'iteration,name,value,wall_time');
  const lossRows = lines.filter((l) => l.split(',')[1] === 'total_loss');
  assert.equal(lossRows.length, 60);
  assert.deepEqual(lossRows.map((l) => Number(l.split(',')[0])), Array.from({ length: 60 }, (_, i) => i));
});

test('a log without recorded write points is replayed at a period', async () => {
  const dir = tempDir();
  await liveRun(dir);
  const log = LogFile.open(join(dir, 'run.sqlite'), { readonly: true });
  replayWriters(log, 1, [new JSONWriter(join(dir, 'p.json'), { id: 'json:other' })], { period: 30 });
  log.close();
  const its = readFileSync(join(dir, 'p.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).iteration);
  assert.deepEqual(its, [24, 29, 49, 59, 60]); // eval metrics at 24 and 49, writes at 29 and 59, final write
});
