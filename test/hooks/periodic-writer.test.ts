import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { EvalHook } from '../../src/hooks/eval-hook.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { IterationTimer } from '../../src/hooks/iteration-timer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { CommonMetricPrinter } from '../../src/writers/common-metric-printer.js';
import { memoryLogger } from '../../src/util/logger.js';
import { tempDir } from '../helpers.js';
import { readJson, simpleTrainer } from './hook-harness.js';

test("detectron2's test_writer_hooks: JSON iterations [19, 39, 49, 50], eval metric last, 3 printer lines, last ETA 0", async () => {
  const dir = tempDir();
  const json = join(dir, 'metrics.json');
  const logger = memoryLogger();
  const { trainer, w } = simpleTrainer();
  trainer.register(new EvalHook(0, () => ({ metric: 100 })), new PeriodicWriter([new CommonMetricPrinter(50, { logger }), new JSONWriter(json)]));
  await trainer.train(0, 50);
  const lines = readJson(json);
  assert.deepEqual(lines.map((d) => d.iteration), [19, 39, 49, 50]);
  assert.ok('metric' in lines.at(-1)!, 'eval metric must be in the last line');
  assert.equal(logger.lines.length, 3);
  assert.deepEqual(logger.lines.map((l) => /\biter: (\d+)\b/.exec(l)?.[1]), ['19', '39', '49']);
  assert.match(logger.lines.at(-1)!, /total_loss: /);
  w.dispose();
});

test('the printer shows eta: 0:00:00 at the last iteration when a timer runs', async () => {
  const logger = memoryLogger();
  const { trainer, w } = simpleTrainer();
  trainer.register(new IterationTimer(3, { logger: memoryLogger() }), new PeriodicWriter([new CommonMetricPrinter(50, { logger })]));
  await trainer.train(0, 50);
  assert.equal(logger.lines.length, 3);
  assert.match(logger.lines.at(-1)!, /^ eta: 0:00:00  iter: 49  total_loss: \S+  time: \S+  last_time: \S+  data_time: \S+  last_data_time: \S+  lr: N\/A$/);
  assert.ok(trainer.storage.history('eta_seconds').length === 3);
  w.dispose();
});

test("detectron2's test_metric_gather_and_write: gather period 5, writer period 10", async () => {
  const json = join(tempDir(), 'metrics.json');
  const { trainer, w } = simpleTrainer({ gatherMetricPeriod: 5 });
  trainer.register(new IterationTimer(3, { logger: memoryLogger() }), new PeriodicWriter([new JSONWriter(json, { window: 10 })], 10));
  await trainer.train(0, 50);
  const data = readJson(json);
  assert.deepEqual(data.map((d) => d.iteration), [9, 19, 29, 39, 49]);
  assert.equal(trainer.storage.history('time').values().length, 48);
  for (const key of ['data_time', 'total_loss']) {
    const history = trainer.storage.history(key).values();
    assert.deepEqual(history.map((h) => h[1]), [4, 9, 14, 19, 24, 29, 34, 39, 44, 49]);
    // Each written value is the mean of the two gathered since the previous write (window 10).
    const values = history.map((h) => h[0]);
    const means = data.map((_, i) => {
      const [a = NaN, b = NaN] = values.slice(2 * i, 2 * i + 2);
      return (a + b) / 2;
    });
    assert.deepEqual(data.map((d) => d[key]), means);
  }
  w.dispose();
});

test('PeriodicWriter closes its writers even when training fails', async () => {
  let closed = 0;
  const { trainer, w } = simpleTrainer();
  trainer.register(
    new PeriodicWriter([{ id: 'x', write: () => {}, cursor: () => ({ iter: -1 }), restore: () => {}, close: () => { closed++; } }]),
    new CallbackHook({ afterStep: (t) => { if (t.iter === 3) throw new Error('fail'); } }),
  );
  await assert.rejects(trainer.train(0, 10));
  assert.equal(closed, 1);
  assert.ok(!existsSync('x'));
  w.dispose();
});

test('PeriodicWriter refuses a period or thread it does not know, naming the value', () => {
  assert.throws(() => new PeriodicWriter([], 0), { code: 'ERR_INVALID_ARGUMENT', message: 'PeriodicWriter period must be a positive integer, got 0' });
  assert.throws(() => new PeriodicWriter([], 20, { thread: 'gpu' as 'log' }), {
    code: 'ERR_INVALID_ARGUMENT',
    message: `PeriodicWriter thread must be 'log' or 'main', got "gpu"`,
  });
});
