import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { tf } from '../tf-setup.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { ShuffledBatches, type Batch } from '../../src/data/shuffled-batches.js';
import { loadMnist } from '../../src/data/mnist.js';
import { PeriodicCheckpointer } from '../../src/hooks/periodic-checkpointer.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { LRScheduler } from '../../src/hooks/lr-scheduler.js';
import { EvalHook } from '../../src/hooks/eval-hook.js';
import { BestCheckpointer } from '../../src/hooks/best-checkpointer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { cosineLR } from '../../src/schedules/lr-schedule.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { exportRun } from '../../src/cli/export-run.js';
import { summarizeRun } from '../../src/cli/run-summary.js';
import { memoryLogger } from '../../src/util/logger.js';
import { RunLiveError } from '../../src/log/errors.js';
import { tempDir } from '../helpers.js';

const split = loadMnist({ seed: 5, trainSize: 640, testSize: 200 });
const MAX = 60;

function build(dir: string, failAt: number | null, thread: 'log' | 'main' = 'log') {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }), tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })] });
  const data = new ShuffledBatches({ images: split.train.images, labels: split.train.labels, batchSize: 32, seed: 9 });
  const loss = (b: Batch) => tf.losses.softmaxCrossEntropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor) as tf.Scalar;
  const trainer = new SimpleTrainer<Batch>({ loss, variables: model }, data, tf.train.adam(0.01), { log: join(dir, 'log.sqlite'), runName: 'r' });
  trainer.register(
    new LRScheduler(cosineLR(0.01, MAX)),
    // A deterministic "evaluation", so both runs record the same scores.
    new EvalHook(15, () => ({ score: ((trainer.iter * 7) % 5) / 5 })),
    new BestCheckpointer(join(dir, 'ckpt'), 15, 'score', 'max', { logger: memoryLogger() }),
    new PeriodicCheckpointer(join(dir, 'ckpt'), 10),
    new PeriodicWriter([new JSONWriter(join(dir, 'metrics.json'))], 5, { thread }),
    new CallbackHook({ afterStep: (t) => { if (t.iter === failAt) throw new Error('simulated crash'); } }),
  );
  return { trainer, model };
}

function withoutTiming(path: string): string[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => {
    const o = JSON.parse(l.replace(/NaN|-?Infinity/g, '"$&"')) as Record<string, unknown>;
    delete o.time;
    delete o.data_time;
    delete o.rank_data_time;
    delete o.eta_seconds;
    return JSON.stringify(o);
  });
}

for (const thread of ['log', 'main'] as const) test(`a run that fails at step 37 and is resumed ends with the metrics and weights of an uninterrupted run (writers on the ${thread} thread)`, async () => {
  const a = tempDir();
  const clean = build(a, null, thread);
  await clean.trainer.train(0, MAX);
  const cleanWeights = clean.model.getWeights().map((w) => Array.from(w.dataSync()));

  const b = tempDir();
  const first = build(b, 37, thread);
  await assert.rejects(first.trainer.train(0, MAX), /simulated crash/);
  const second = build(b, null, thread);
  const start = await second.trainer.resumeOrLoad(join(b, 'ckpt'));
  assert.equal(start, 30, 'the newest checkpoint on the timeline is model_0000029');
  // The rebuilt storage has the full history: smoothing windows are as they were.
  assert.equal(second.trainer.storage.iter, 0, 'not yet training');
  await second.trainer.train(start, MAX);
  assert.equal(cleanWeights.length, 4, 'two dense layers: a kernel and a bias each');
  assert.deepEqual(second.model.getWeights().map((w) => Array.from(w.dataSync())), cleanWeights);

  // Metrics regenerated from each log agree (timing values aside), and so do the live files.
  const la = LogFile.open(join(a, 'log.sqlite'), { readonly: true });
  const lb = LogFile.open(join(b, 'log.sqlite'), { readonly: true });
  exportRun(la, 1, { json: join(a, 'replayed.json') });
  exportRun(lb, 1, { json: join(b, 'replayed.json') });
  assert.deepEqual(withoutTiming(join(b, 'replayed.json')), withoutTiming(join(a, 'replayed.json')));
  assert.deepEqual(withoutTiming(join(b, 'metrics.json')), withoutTiming(join(a, 'metrics.json')));
  const iterations = withoutTiming(join(b, 'metrics.json')).map((l) => JSON.parse(l).iteration);
  assert.equal(new Set(iterations).size, iterations.length, 'no iteration written twice');
  // The abandoned iterations 30..37 stay in the log but not on the timeline.
  const sb = replayRun(lb, 1).state;
  const sa = replayRun(la, 1).state;
  assert.deepEqual(sb.metrics.histories[sb.metrics.index.get('total_loss')!]!.values(), sa.metrics.histories[sa.metrics.index.get('total_loss')!]!.values());
  assert.equal(sb.info.status, 'completed');
  assert.equal(sb.info.resumes.length, 1);
  // Best-checkpoint state survived the resume (restored from the checkpoint, not reset).
  assert.deepEqual(sb.info.checkpoints.filter((c) => c.name === 'model_best').map((c) => c.iter), sa.info.checkpoints.filter((c) => c.name === 'model_best').map((c) => c.iter));
  la.close();
  lb.close();
});

test('a run without checkpoints or a log to resume starts at the beginning', async () => {
  const d = tempDir();
  const { trainer } = build(d, null);
  assert.equal(await trainer.resumeOrLoad(join(d, 'ckpt')), 0);
  assert.equal(await trainer.resumeOrLoad(join(d, 'ckpt'), { resume: false }), 0);
});

test('run status: completed, failed, and crashed when a writer died without an end event', async () => {
  const d = tempDir();
  const f = build(d, 12);
  await assert.rejects(f.trainer.train(0, 20));
  const log = LogFile.open(join(d, 'log.sqlite'));
  assert.equal(summarizeRun(log, 1, 20, (id) => log.isLive(id)).status, 'failed');
  // A writer that is never closed, from a process that is gone: simulate with a lease of a dead pid.
  const w = log.createRun({ name: 'x' });
  w.scalar('a', true, 0, 1);
  w.step(0, 1);
  w.flushSync();
  assert.equal(summarizeRun(log, 2, 20, (id) => log.isLive(id)).status, 'running');
  // The process holding the lease dies (a pid that does not exist).
  log.database.prepare('UPDATE writer_leases SET pid = 999999999 WHERE run_id = 2').run();
  assert.equal(log.isLive(2), false);
  assert.equal(summarizeRun(log, 2, 20, (id) => log.isLive(id)).status, 'crashed');
  await w.close();
  log.close();
});

test('a second writer on a live run is refused; a crashed run can be taken over', async () => {
  const d = tempDir();
  const log = LogFile.open(join(d, 'l.sqlite'));
  const w = log.createRun({ name: 'x' });
  const other = LogFile.open(join(d, 'l.sqlite'));
  // Pretend the lease belongs to another live process on this host (our parent).
  other.database.prepare('UPDATE writer_leases SET pid = ?').run(process.ppid);
  assert.throws(() => other.appendToRun(1), (e: unknown) => e instanceof RunLiveError && /process \d+/.test(e.message));
  other.database.prepare('UPDATE writer_leases SET pid = ?').run(999999999);
  const taken = other.appendToRun(1);
  await taken.close();
  await w.close();
  other.close();
  log.close();
});

test('a corrupt newest checkpoint is skipped for the previous one, with a warning', async () => {
  const d = tempDir();
  const first = build(d, 45);
  await assert.rejects(first.trainer.train(0, MAX));
  const { writeFileSync: write, readFileSync: read } = await import('node:fs');
  const weights = join(d, 'ckpt', 'model_0000039', 'weights.bin');
  const bytes = read(weights);
  bytes[10] = bytes[10]! ^ 0xff;
  write(weights, bytes);
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  const second = build(d, null);
  const start = await second.trainer.resumeOrLoad(join(d, 'ckpt'));
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.equal(start, 30);
  assert.ok(warnings.some((w) => /model_0000039/.test(w)), warnings.join('; '));
});
