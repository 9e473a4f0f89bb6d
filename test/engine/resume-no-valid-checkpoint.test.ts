import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tf } from '../tf-setup.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { NoValidCheckpointError } from '../../src/engine/errors.js';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import { PeriodicCheckpointer } from '../../src/hooks/periodic-checkpointer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { LogFile } from '../../src/log/log-file.js';
import { tempDir } from '../helpers.js';

function* data() {
  for (;;) yield { x: tf.tensor1d([1, 2]), y: tf.tensor1d([2, 4]) };
}

const live: Array<() => void> = [];
afterEach(() => {
  for (const dispose of live.splice(0)) dispose();
});

/** A run named 'r' with a checkpoint every 5 steps, failing at `failAt`; disposed after the test. */
function build(dir: string, failAt: number | null) {
  const w = tf.variable(tf.scalar(0.5), true, 'w');
  const trainer = new SimpleTrainer<{ x: tf.Tensor1D; y: tf.Tensor1D }>(
    { loss: (b) => tf.losses.meanSquaredError(b.y, b.x.mul(w)) as tf.Scalar, variables: [w] },
    data(),
    tf.train.sgd(0.01),
    { log: join(dir, 'log.sqlite'), runName: 'r' },
  );
  trainer.register(
    new PeriodicCheckpointer(join(dir, 'ckpt'), 5),
    new CallbackHook({ afterStep: (t) => { if (t.iter === failAt) throw new Error('simulated crash'); } }),
  );
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    trainer.dispose();
    w.dispose();
  };
  live.push(dispose);
  return { trainer, dispose };
}

function flipByte(path: string): void {
  const bytes = readFileSync(path);
  bytes[0] = bytes[0]! ^ 0xff;
  writeFileSync(path, bytes);
}

async function crashedRun(dir: string): Promise<void> {
  const first = build(dir, 12);
  await assert.rejects(first.trainer.train(0, 20), /simulated crash/);
  first.dispose();
}

test('resumeOrLoad refuses to start a new run over a run whose every checkpoint is corrupt, naming the folder, each checkpoint and why', async () => {
  const d = tempDir();
  await crashedRun(d);
  flipByte(join(d, 'ckpt', 'model_0000009', 'variables.bin'));
  // A torn manifest: the store does not even list this one as complete.
  writeFileSync(join(d, 'ckpt', 'model_0000004', 'checkpoint.json'), '{"format":');
  const second = build(d, null);
  await assert.rejects(second.trainer.resumeOrLoad(join(d, 'ckpt')), (e: unknown) => {
    assert.ok(e instanceof NoValidCheckpointError, String(e));
    assert.equal(e.code, 'ERR_NO_VALID_CHECKPOINT');
    assert.equal(e.dir, join(d, 'ckpt'));
    assert.deepEqual(e.tried.map((t) => t.name), ['model_0000009', 'model_0000004']);
    assert.match(e.message, new RegExp(join(d, 'ckpt').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(e.message, /model_0000009 .*SHA-256/);
    assert.match(e.message, /model_0000004 .*incomplete/);
    assert.match(e.message, /ifNoValidCheckpoint: 'start-fresh'/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  // Nothing was started: the log still ends with the failed run.
  const log = LogFile.open(join(d, 'log.sqlite'), { readonly: true });
  assert.equal([...log.runs()].length, 1);
  log.close();
  second.dispose();
});

test('resumeOrLoad names a recorded checkpoint that is gone from the folder', async () => {
  const d = tempDir();
  await crashedRun(d);
  rmSync(join(d, 'ckpt', 'model_0000009'), { recursive: true });
  flipByte(join(d, 'ckpt', 'model_0000004', 'variables.bin'));
  const second = build(d, null);
  await assert.rejects(second.trainer.resumeOrLoad(join(d, 'ckpt')), (e: unknown) => e instanceof NoValidCheckpointError && /model_0000009 .*not in the folder/.test(e.message));
  second.dispose();
});

test("with ifNoValidCheckpoint: 'start-fresh' a run whose every checkpoint is corrupt starts again at startIter", async () => {
  const d = tempDir();
  await crashedRun(d);
  flipByte(join(d, 'ckpt', 'model_0000009', 'variables.bin'));
  flipByte(join(d, 'ckpt', 'model_0000004', 'variables.bin'));
  const second = build(d, null);
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    assert.equal(await second.trainer.resumeOrLoad(join(d, 'ckpt'), { ifNoValidCheckpoint: 'start-fresh', startIter: 0 }), 0);
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.ok(warnings.some((w) => /model_0000004/.test(w)), warnings.join('; '));
  second.dispose();
});

test('a run that crashed before its first checkpoint, or no run at all, still starts at startIter without an option', async () => {
  const d = tempDir();
  const fresh = build(d, null);
  assert.equal(await fresh.trainer.resumeOrLoad(join(d, 'ckpt')), 0);
  fresh.dispose();
  const first = build(d, 2);
  await assert.rejects(first.trainer.train(0, 20), /simulated crash/);
  first.dispose();
  const second = build(d, null);
  assert.equal(await second.trainer.resumeOrLoad(join(d, 'ckpt'), { startIter: 0 }), 0);
  second.dispose();
});

test('an unknown ifNoValidCheckpoint value is a typed error naming it', async () => {
  const d = tempDir();
  const t = build(d, null);
  await assert.rejects(
    t.trainer.resumeOrLoad(join(d, 'ckpt'), { ifNoValidCheckpoint: 'fresh' as 'start-fresh' }),
    (e: unknown) => e instanceof InvalidArgumentError && /ifNoValidCheckpoint must be 'throw' or 'start-fresh', got "fresh"/.test(e.message),
  );
  t.dispose();
});
