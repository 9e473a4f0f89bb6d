import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStorage } from '../../src/storage/event-storage.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { pythonFloat, metricsLine } from '../../src/writers/python-json.js';
import { tempDir } from '../helpers.js';

// Python's json.loads accepts NaN/Infinity; JSON.parse does not, so map them for reading back.
function readLines(path: string): Array<Record<string, number>> {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l.replace(/-?Infinity|NaN/g, '"$&"')) as Record<string, number>);
}

test("detectron2's testScalar: unsmoothed key written every 20 steps", () => {
  const path = join(tempDir(), 'test.json');
  const storage = new EventStorage();
  const writer = new JSONWriter(path);
  for (let k = 0; k < 60; k++) {
    storage.putScalar('key', k, false);
    if ((k + 1) % 20 === 0) writer.write(storage.state);
    storage.step();
  }
  writer.close();
  assert.deepEqual(readLines(path).map((d) => d.key), [19, 39, 59]);
});

test("detectron2's testScalarMismatchedPeriod: lines per iteration, in iteration order", () => {
  const path = join(tempDir(), 'test.json');
  const storage = new EventStorage();
  const writer = new JSONWriter(path);
  for (let k = 0; k < 60; k++) {
    if (k % 17 === 0) storage.putScalar('key2', k, false);
    storage.putScalar('key', k, false);
    if ((k + 1) % 20 === 0) writer.write(storage.state);
    storage.step();
  }
  writer.close();
  const data = readLines(path);
  assert.deepEqual(data.map((d) => d.key2 ?? 0), [17, 0, 34, 0, 51, 0]);
  assert.deepEqual(data.map((d) => d.key ?? 0), [0, 19, 0, 39, 0, 59]);
  assert.deepEqual(data.map((d) => d.iteration), [17, 19, 34, 39, 51, 59]);
});

test("detectron2's testSmoothingWithWindowSize: medians over the window", () => {
  const path = join(tempDir(), 'test.json');
  const storage = new EventStorage();
  const writer = new JSONWriter(path, { window: 10 });
  for (let k = 0; k < 20; k++) {
    storage.putScalar('key1', k, true);
    if ((k + 1) % 2 === 0) storage.putScalar('key2', k, true);
    if ((k + 1) % 5 === 0) storage.putScalar('key3', k, true);
    if ((k + 1) % 10 === 0) writer.write(storage.state);
    storage.step();
  }
  const counts = Object.fromEntries(['key1', 'key2', 'key3'].map((k) => [k, storage.countSamples(k, 10)]));
  assert.deepEqual(counts, { key1: 10, key2: 5, key3: 2 });
  writer.close();
  const data = readLines(path);
  assert.deepEqual(data.map((d) => d.key1), [4.5, 14.5]);
  assert.deepEqual(data.map((d) => d.key2), [5, 15]);
  assert.deepEqual(data.map((d) => d.key3), [6.5, 16.5]);
});

test('an eval metric put late at an earlier iteration is written in iteration order', () => {
  const path = join(tempDir(), 'm.json');
  const storage = new EventStorage();
  const writer = new JSONWriter(path);
  for (let k = 0; k < 10; k++) {
    storage.putScalar('loss', k, false);
    storage.step();
  }
  storage.putScalar('eval', 1, false, 5); // late metric for iteration 5... already older than nothing written yet
  writer.write(storage.state);
  writer.close();
  const its = readLines(path).map((d) => d.iteration);
  assert.deepEqual(its, [5, 9]);
});

test('restore drops lines past the cursor so a resumed run writes each iteration once', () => {
  const path = join(tempDir(), 'm.json');
  const storage = new EventStorage();
  const w = new JSONWriter(path);
  for (let k = 0; k < 40; k++) {
    storage.putScalar('loss', k, false);
    if ((k + 1) % 10 === 0) w.write(storage.state);
    storage.step();
  }
  w.close();
  const resumed = new JSONWriter(path);
  resumed.restore({ iter: 19 });
  assert.deepEqual(readLines(path).map((d) => d.iteration), [9, 19]);
  resumed.close();
});

test('floats are written as Python repr writes them', () => {
  assert.equal(pythonFloat(0.00001), '1e-05');
  assert.equal(pythonFloat(100), '100.0');
  assert.equal(pythonFloat(0.1), '0.1');
  assert.equal(pythonFloat(1234.5), '1234.5');
  assert.equal(pythonFloat(1e16), '1e+16');
  assert.equal(pythonFloat(1.5e-7), '1.5e-07');
  assert.equal(pythonFloat(-2.5), '-2.5');
  assert.equal(pythonFloat(123456789012345.6), '123456789012345.6');
  assert.equal(pythonFloat(NaN), 'NaN');
  assert.equal(pythonFloat(-Infinity), '-Infinity');
  assert.equal(metricsLine(3, { b: 1, a: 0.5 }), '{"a": 0.5, "b": 1.0, "iteration": 3}');
});

test('pythonFloat writes every value of a 2,146-value golden list exactly as Python 3.11 repr() does', () => {
  // Values across both notation switches (1e-4, 1e16), integers, float32 values, extremes.
  const golden = JSON.parse(readFileSync(new URL('./fixtures/python-repr.json', import.meta.url), 'utf8')) as { rows: Array<[string, string]> };
  assert.ok(golden.rows.length > 2000);
  for (const [bits, repr] of golden.rows) {
    const v = Buffer.from(bits, 'hex').readDoubleBE(0);
    assert.equal(pythonFloat(v), repr, `bits ${bits}`);
  }
});

test('values of two unwritten iterations give a line each, in order; values of one iteration give the line metricsLine makes', () => {
  const dir = tempDir();
  const path = join(dir, 'mixed.json');
  const s = new EventStorage();
  const w = new JSONWriter(path, { window: 3 });
  for (let i = 0; i < 10; i++) {
    s.putScalar('loss', 10 - i);
    s.putScalar('lr', 0.5, false);
    s.step();
  }
  s.putScalar('eval/acc', 0.75, false, 5); // an earlier iteration, not written yet
  w.write(s.state);
  s.putScalar('loss', 0.25);
  s.putScalar('Zeta', 1e-7, false);
  s.step();
  w.write(s.state);
  w.close();
  assert.deepEqual(readFileSync(path, 'utf8').split('\n').filter(Boolean), [
    '{"eval/acc": 0.75, "iteration": 5}',
    '{"iteration": 9, "loss": 2.0, "lr": 0.5}',
    // loss: the median of the samples of the last 3 iterations (2, 1, 0.25); eval/acc and lr
    // were not put since the last write.
    metricsLine(10, { Zeta: 1e-7, loss: 1 }),
  ]);
  assert.equal(readFileSync(path, 'utf8').split('\n')[2], '{"Zeta": 1e-07, "iteration": 10, "loss": 1.0}');
});
