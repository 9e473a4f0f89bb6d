import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { tf } from '../tf-setup.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { HookBase } from '../../src/engine/hook-base.js';
import { EvalHook, flattenResults } from '../../src/hooks/eval-hook.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { IterationTimer } from '../../src/hooks/iteration-timer.js';
import { BestCheckpointer } from '../../src/hooks/best-checkpointer.js';
import { PeriodicCheckpointer } from '../../src/hooks/periodic-checkpointer.js';
import { LRScheduler } from '../../src/hooks/lr-scheduler.js';
import { EarlyStopping } from '../../src/hooks/early-stopping.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { MemoryStats } from '../../src/hooks/memory-stats.js';
import { ProgressBar } from '../../src/hooks/progress-bar.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { CommonMetricPrinter } from '../../src/writers/common-metric-printer.js';
import { multiStepLR, linearWarmup, constantLR, cosineLR, stepLR } from '../../src/schedules/lr-schedule.js';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.js';
import { memoryLogger } from '../../src/util/logger.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { tempDir } from '../helpers.js';

function* data() {
  for (;;) yield { x: tf.tensor1d([1, 2]), y: tf.tensor1d([2, 4]) };
}

function simpleTrainer(options: ConstructorParameters<typeof SimpleTrainer>[3] = {}) {
  const w = tf.variable(tf.scalar(0.5));
  const trainer = new SimpleTrainer<{ x: tf.Tensor1D; y: tf.Tensor1D }>(
    { loss: (b) => tf.losses.meanSquaredError(b.y, b.x.mul(w)) as tf.Scalar, variables: [w] },
    data(),
    tf.train.sgd(0.01),
    options,
  );
  return { trainer, w };
}

const readJson = (path: string) =>
  readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l.replace(/-?Infinity|NaN/g, '"$&"')) as Record<string, number>);

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
  logger.lines.forEach((l, i) => assert.match(l, new RegExp(`iter: ${[19, 39, 49][i]}\\b`)));
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
    data.forEach((d, i) => assert.equal(d[key], (history[2 * i]![0] + history[2 * i + 1]![0]) / 2));
  }
  w.dispose();
});

test('EvalHook call counts follow detectron2: 30/15 → 2, 31/15 → 3, 20/0 → 1', async () => {
  for (const [maxIter, period, expected] of [[30, 15, 2], [31, 15, 3], [20, 0, 1]] as const) {
    const { trainer, w } = simpleTrainer();
    const hook = new EvalHook(period, () => ({ m: 1 }));
    trainer.register(hook);
    await trainer.train(0, maxIter);
    assert.equal(hook.calls, expected, `${maxIter}/${period}`);
    w.dispose();
  }
});

test('EvalHook flattens nested results, names a non-number key, and is reusable after training', async () => {
  assert.deepEqual(flattenResults({ a: { b: 1, c: { d: 2 } }, e: 3 }), { 'a/b': 1, 'a/c/d': 2, e: 3 });
  assert.throws(() => flattenResults({ a: { b: 'x' } }), /'a\/b: "x"'/);
  const { trainer, w } = simpleTrainer();
  const hook = new EvalHook(5, async () => ({ acc: { top1: 0.5 } }));
  trainer.register(hook);
  await trainer.train(0, 10);
  await trainer.train(10, 20);
  assert.equal(hook.calls, 4);
  assert.deepEqual(trainer.storage.latest()['acc/top1'], [0.5, 20]);
  w.dispose();
});

test('BestCheckpointer save counts: max [.3,.4,.35,.5] → 3; min [1,.8,.9,.9] → 2; min [NaN,.8,.9,.9] → 1', async () => {
  const cases = [['max', [0.3, 0.4, 0.35, 0.5], 3], ['min', [1.0, 0.8, 0.9, 0.9], 2], ['min', [NaN, 0.8, 0.9, 0.9], 1]] as const;
  for (const [mode, values, saves] of cases) {
    const { trainer, w } = simpleTrainer();
    const it = values[Symbol.iterator]();
    const best = new BestCheckpointer(tempDir(), 10, 'metric', mode, { logger: memoryLogger() });
    trainer.register(new EvalHook(10, () => ({ metric: it.next().value as number })), best);
    await trainer.train(0, 40);
    assert.equal(best.saves, saves, `${mode} ${values.join(',')}`);
    w.dispose();
  }
});

test("BestCheckpointer's best value survives a resume through its state", async () => {
  const { trainer, w } = simpleTrainer();
  const vals = [0.5, 0.9];
  const b1 = new BestCheckpointer(tempDir(), 10, 'acc', 'max', { logger: memoryLogger() });
  trainer.register(new EvalHook(10, () => ({ acc: vals.shift()! })), b1);
  await trainer.train(0, 20);
  const sd = await trainer.stateDict();
  const { trainer: t2 } = simpleTrainer();
  const b2 = new BestCheckpointer(tempDir(), 10, 'acc', 'max', { logger: memoryLogger() });
  t2.register(new EvalHook(10, () => ({ acc: 0.7 })), b2);
  await t2.loadStateDict(sd);
  assert.deepEqual(b2.best, { value: 0.9, iter: 20 });
  await t2.train(20, 30);
  assert.equal(b2.saves, 0, '0.7 is not better than the restored 0.9');
  w.dispose();
});

test('PeriodicCheckpointer with period 10 and max 25 saves model_0000009, model_0000019, model_final, each logged', async () => {
  const dir = tempDir();
  const logPath = join(dir, 'log.sqlite');
  const { trainer, w } = simpleTrainer({ log: logPath });
  const hook = new PeriodicCheckpointer(join(dir, 'ckpt'), 10);
  trainer.register(hook);
  await trainer.train(0, 25);
  assert.deepEqual(hook.saved, ['model_0000009', 'model_0000019', 'model_final']);
  const store = new CheckpointStore(join(dir, 'ckpt'));
  assert.deepEqual(store.list().map((c) => c.name).sort(), ['model_0000009', 'model_0000019', 'model_final']);
  const loaded = await store.load('model_0000019', {});
  assert.equal((loaded.state as { iteration: number }).iteration, 19);
  const log = LogFile.open(logPath, { readonly: true });
  assert.deepEqual(replayRun(log, 1).state.info.checkpoints.map((c) => [c.name, c.iter]), [['model_0000009', 9], ['model_0000019', 19], ['model_final', 24]]);
  log.close();
  w.dispose();
});

test('PeriodicCheckpointer keeps at most maxToKeep periodic checkpoints', async () => {
  const dir = tempDir();
  const { trainer, w } = simpleTrainer();
  trainer.register(new PeriodicCheckpointer(dir, 5, { maxToKeep: 2 }));
  await trainer.train(0, 30);
  assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('.')).sort(), ['model_0000024', 'model_0000029', 'model_final']);
  w.dispose();
});

test('LRScheduler sets the rate before each step and puts the rate the step used', async () => {
  const { trainer, w } = simpleTrainer();
  const opt = trainer.optimizer as tf.SGDOptimizer;
  const seen: number[] = [];
  trainer.register(new LRScheduler(multiStepLR(0.1, [3, 6])), new CallbackHook({ afterStep: () => { seen.push((opt as unknown as { learningRate: number }).learningRate); } }));
  await trainer.train(0, 8);
  const lr = trainer.storage.history('lr').values().map((v) => Number(v[0].toPrecision(6)));
  assert.deepEqual(lr, [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001]);
  assert.deepEqual(seen.map((v) => Number(v.toPrecision(6))), lr);
  assert.equal(trainer.storage.smoothingHints().lr, false);
  w.dispose();
});

test('schedules: step, multi-step, cosine and warm-up compose as documented', () => {
  assert.equal(constantLR(0.3)(1e6), 0.3);
  assert.ok(Math.abs(stepLR(0.1, 10, 0.5)(25) - 0.025) < 1e-12);
  assert.ok(Math.abs(cosineLR(0.1, 100)(50) - 0.05) < 1e-12);
  assert.equal(cosineLR(0.1, 100, 0.01)(100), 0.01);
  const warm = linearWarmup(constantLR(1), 10, 0.1);
  assert.ok(Math.abs(warm(0) - 0.1) < 1e-12);
  assert.ok(Math.abs(warm(5) - 0.55) < 1e-12);
  assert.equal(warm(10), 1);
  assert.throws(() => multiStepLR(0.1, [5, 3]), /milestones must increase/);
});

test('EarlyStopping stops cleanly, logs the reason, and its counter survives a resume', async () => {
  const dir = tempDir();
  const { trainer, w } = simpleTrainer({ log: join(dir, 'l.sqlite') });
  const scores = [0.5, 0.6, 0.6, 0.59, 0.58, 0.9];
  const stop = new EarlyStopping('acc', { mode: 'max', patience: 3 });
  trainer.register(new EvalHook(5, () => ({ acc: scores.shift()! })), stop);
  await trainer.train(0, 100);
  assert.equal(trainer.iter, 25);
  const log = LogFile.open(join(dir, 'l.sqlite'), { readonly: true });
  const { state } = replayRun(log, 1);
  assert.equal(state.info.status, 'stopped');
  assert.match(state.info.statusDetail!, /acc did not improve by more than 0 for 3 evaluations \(best 0.6 at iteration 9\)/);
  log.close();
  const again = new EarlyStopping('acc', { mode: 'max', patience: 3 });
  again.loadStateDict(stop.stateDict());
  assert.equal(again.bad, 3);
  assert.deepEqual(again.best, { value: 0.6, iter: 9 });
  w.dispose();
});

test('IterationTimer puts time after warm-up and reports the time spent in hooks', async () => {
  const logger = memoryLogger();
  const { trainer, w } = simpleTrainer();
  const timer = new IterationTimer(3, { logger });
  class Slow extends HookBase {
    override afterStep() { const end = performance.now() + 2; while (performance.now() < end); }
  }
  trainer.register(timer, new Slow()); // hooks after the timer count as hook time
  await trainer.train(0, 10);
  assert.equal(trainer.storage.history('time').length, 8);
  assert.equal(timer.summary!.iterations, 8);
  assert.ok(timer.summary!.hookSeconds > 0.01, `hook seconds ${timer.summary!.hookSeconds}`);
  assert.match(logger.lines.at(-1)!, /Total training time: 0:00:0\d \(0:00:00 on hooks\)/);
  w.dispose();
});

test("IterationTimer's step time covers every beforeStep hook and the step, not the afterStep hooks after it", async () => {
  const { trainer, w } = simpleTrainer();
  const busy = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end); };
  // The timer reads the trainer's end-of-step stamp: a hook registered before it still counts.
  trainer.register(
    new CallbackHook({ beforeStep: () => busy(3) }),
    new IterationTimer(0, { logger: memoryLogger() }),
    new CallbackHook({ afterStep: () => busy(50) }),
  );
  await trainer.train(0, 6);
  const times = trainer.storage.history('time').values().map(([v]) => v);
  assert.equal(times.length, 6);
  // Had the 50 ms afterStep counted, a step would take over 53 ms.
  for (const t of times) assert.ok(t >= 0.003 && t < 0.05, `step time ${t}s: ≥ 3 ms of beforeStep, without the 50 ms afterStep`);
  w.dispose();
});

test('MemoryStats puts the tensor count every period', async () => {
  const { trainer, w } = simpleTrainer();
  trainer.register(new MemoryStats(5));
  await trainer.train(0, 20);
  const h = trainer.storage.history('memory/num_tensors').values();
  assert.deepEqual(h.map((v) => v[1]), [4, 9, 14, 19]);
  assert.equal(new Set(h.map((v) => v[0])).size, 1, 'flat: no leak');
  w.dispose();
});

test('ProgressBar is off when the stream is not a TTY and draws when it is', async () => {
  const chunks: string[] = [];
  const fake = Object.assign(new (await import('node:stream')).Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }), { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true }) as unknown as NodeJS.WriteStream;
  const { trainer, w } = simpleTrainer();
  trainer.register(new ProgressBar({ stream: fake }));
  await trainer.train(0, 30);
  assert.match(chunks.join(''), /30\/30 iter/);
  assert.equal(new ProgressBar({ stream: { isTTY: false } as NodeJS.WriteStream }).enabled, false);
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
