import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStorage } from '../../src/storage/event-storage.js';
import { CSVWriter } from '../../src/writers/csv-writer.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { TensorBoardWriter } from '../../src/writers/tensorboard-writer.js';
import type { MetricWriter } from '../../src/projections/metric-writer.js';
import { readEventFile } from '../../src/writers/tensorboard/event-file-reader.js';
import { pythonFloat } from '../../src/writers/python-json.js';
import { tempDir } from '../helpers.js';
import { counted, type ReadCount } from './counting-state.js';

const STEPS = 1000;
const WINDOW = 20;
const T0 = 1_700_000_000;

/**
 * A run of STEPS steps written after every step (1,000 writes): loss (smoothed) and lr each
 * step, and every 100 steps an eval metric put late, for 50 iterations back. Returns the samples
 * put and what the writes read.
 */
function writeEveryStep(writer: MetricWriter): { samples: number; writes: number; read: ReadCount } {
  const storage = new EventStorage();
  const read: ReadCount = { metrics: 0, stepTimes: 0 };
  let samples = 0;
  for (let i = 0; i < STEPS; i++) {
    storage.putScalar('loss', 1 / (1 + i));
    storage.putScalar('lr', 0.1, false);
    samples += 2;
    if (i % 100 === 99) {
      storage.putScalar('eval/acc', i / STEPS, false, i - 50);
      samples++;
    }
    storage.step(T0 + i);
    writer.write(counted(storage.state, read));
  }
  writer.close();
  return { samples, writes: STEPS, read };
}

test('a CSVWriter write reads only the samples after its cursor, and a few step times', () => {
  const path = join(tempDir(), 'm.csv');
  const { samples, writes, read } = writeEveryStep(new CSVWriter(path));
  // Each sample read once over the whole run: reading the history at each write would be ~1,000,000.
  assert.equal(read.metrics, samples);
  assert.ok(read.stepTimes <= 8 * 16 * writes, `${read.stepTimes} step times read for ${writes} writes`);
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1 + samples);
});

test('a CSV row of a sample put late for an earlier iteration carries the wall time of that iteration', () => {
  const path = join(tempDir(), 'm.csv');
  writeEveryStep(new CSVWriter(path));
  const evals = readFileSync(path, 'utf8').split('\n').filter((l) => l.includes(',eval/acc,'));
  assert.equal(evals.length, 10);
  // Iteration 49 ended at T0 + 49: 50 steps back from the write, past the clock's first read.
  assert.equal(evals[0], `49,eval/acc,0.099,${(T0 + 49).toFixed(6)}`);
  assert.equal(evals[9], `949,eval/acc,0.999,${(T0 + 949).toFixed(6)}`);
});

test('a JSONWriter write reads a window of each metric put since the last write, however long the run', () => {
  const path = join(tempDir(), 'm.json');
  const { writes, read } = writeEveryStep(new JSONWriter(path, { window: WINDOW }));
  // latest + countSince (window + 1) + median (window) per metric per write, at most.
  assert.ok(read.metrics <= writes * 3 * (2 * WINDOW + 2), `${read.metrics} samples read for ${writes} writes`);
  assert.equal(read.stepTimes, 0);
  // The late eval values are older than what was written: JSONWriter skips them (as detectron2).
  assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, STEPS);
});

test('a TensorBoardWriter write reads a window of each metric and a few step times, however long the run', () => {
  const dir = tempDir();
  const { writes, read } = writeEveryStep(new TensorBoardWriter(dir, { fileName: 'events.out.tfevents.t', window: WINDOW, fsync: false }));
  assert.ok(read.metrics <= writes * 3 * (2 * WINDOW + 2), `${read.metrics} samples read for ${writes} writes`);
  // Looking up the wall times of the whole run at each write would be ~1,000,000.
  assert.ok(read.stepTimes <= 8 * 16 * writes, `${read.stepTimes} step times read for ${writes} writes`);
  const events = readEventFile(join(dir, readdirSync(dir)[0]!));
  const summaries = events.filter((e) => e.kind === 'summary');
  assert.deepEqual(
    summaries.map((e) => [e.step, e.wallTime]),
    Array.from({ length: STEPS }, (_, i) => [i, T0 + i]),
  );
});

/**
 * A wide run: WIDE metrics put 20 times at iteration 0, then only `loss` each step (and, with
 * `late`, an eval metric for the step before, and writes every other step, which sends
 * JSONWriter down its several-iterations path). loss is smoothed: its line holds a median.
 */
const WIDE = 100;
function writeWideRun(writer: MetricWriter, late: boolean): { writes: number; read: ReadCount } {
  const storage = new EventStorage();
  for (let k = 0; k < WIDE; k++) for (let j = 0; j < 20; j++) storage.putScalar(`w${k}`, j);
  const read: ReadCount = { metrics: 0, stepTimes: 0 };
  let writes = 0;
  for (let i = 0; i < STEPS; i++) {
    storage.putScalar('loss', 1 / (1 + i));
    if (late && i > 0) storage.putScalar('eval', i, false, i - 1);
    storage.step(T0 + i);
    if (!late || i % 2 === 1) {
      writer.write(counted(storage.state, read));
      writes++;
    }
  }
  writer.close();
  return { writes, read };
}

test('a TensorBoardWriter write smooths only the metrics put since its last write, however wide the run', () => {
  const { writes, read } = writeWideRun(new TensorBoardWriter(tempDir(), { fileName: 'events.out.tfevents.t', window: WINDOW, fsync: false }), false);
  // A look at each metric's latest iteration, and a window of the one put: smoothing all would be ~4,000,000.
  assert.ok(read.metrics <= writes * (WIDE + 1 + 2 * (2 * WINDOW + 2)), `${read.metrics} samples read for ${writes} writes`);
});

test('a JSONWriter write of several iterations smooths only the metrics put since its last write, however wide the run', () => {
  const path = join(tempDir(), 'm.json');
  const { writes, read } = writeWideRun(new JSONWriter(path, { window: WINDOW }), true);
  // Two looks at each metric's latest iteration, and windows of the two put: smoothing all would be ~2,000,000.
  assert.ok(read.metrics <= writes * (2 * (WIDE + 2) + 2 * (2 * WINDOW + 2)), `${read.metrics} samples read for ${writes} writes`);
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines.length, STEPS);
  assert.deepEqual(lines.slice(2, 4), ['{"eval": 3.0, "iteration": 2}', `{"iteration": 3, "loss": ${pythonFloat((1 / 2 + 1 / 3) / 2)}}`]);
});
