import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { PeriodicCheckpointer } from '../../src/hooks/periodic-checkpointer.js';
import { CheckpointStore } from '../../src/checkpoint/checkpoint-store.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { tempDir } from '../helpers.js';
import { simpleTrainer } from './hook-harness.js';

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

const names = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.')).sort();

test('two PeriodicCheckpointers whose prefixes look like regular expressions prune only their own checkpoints', async () => {
  const dir = tempDir();
  const { trainer: t, w } = simpleTrainer();
  t.register(new PeriodicCheckpointer(dir, 5, { prefix: 'mm', maxToKeep: 1 }), new PeriodicCheckpointer(dir, 5, { prefix: 'm+', maxToKeep: 1 }));
  await t.train(0, 15);
  assert.deepEqual(names(dir), ['m+_0000014', 'm+_final', 'mm_0000014', 'mm_final']);
  w.dispose();
});

test("pruning deletes only <prefix>_<digits>: a '.' in the prefix matches itself, and other names are left alone", async () => {
  const dir = tempDir();
  const store = new CheckpointStore(dir);
  for (const name of ['v1.0_0000001', 'v1x0_0000001', 'v1.0_x_0000002', 'v1.0z_0000003', 'v1.0_00000x4', 'v1.0_best']) await store.save(name, { state: { iteration: 1 } });
  const { trainer: t, w } = simpleTrainer();
  t.register(new PeriodicCheckpointer(dir, 5, { prefix: 'v1.0', maxToKeep: 1 }));
  await t.train(0, 10);
  assert.deepEqual(names(dir), ['v1.0_0000009', 'v1.0_00000x4', 'v1.0_best', 'v1.0_final', 'v1.0_x_0000002', 'v1.0z_0000003', 'v1x0_0000001']);
  w.dispose();
});

test('pruning orders checkpoints by iteration, so one past 9,999,999 counts as the newest', async () => {
  const dir = tempDir();
  const store = new CheckpointStore(dir);
  await store.save('model_9999999', { state: { iteration: 9999999 } });
  const { trainer: t, w } = simpleTrainer();
  t.register(new PeriodicCheckpointer(dir, 5, { maxToKeep: 1 }));
  // Train iterations 10,000,000..10,000,004: the save at 10,000,004 has an 8-digit number.
  await t.train(10_000_000, 10_000_005);
  assert.deepEqual(names(dir), ['model_10000004', 'model_final']);
  w.dispose();
});
