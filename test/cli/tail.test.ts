import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { cli, smallRun } from './cli-harness.js';
import { LogFile } from '../../src/log/log-file.js';
import { tempDir } from '../helpers.js';
import { fmt } from '../../src/cli/describe-state.js';
import { tf } from '../tf-setup.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { event } from '../../src/events/train-event.js';

// A tail that never returns fails here instead of hanging the file.
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no result within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

test('tail on a crashed run (its writer gone without an end event) prints that it crashed and exits 1', async () => {
  const path = join(tempDir(), 'crashed.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'x' });
  for (let i = 0; i < 3; i++) {
    w.scalar('total_loss', true, i, 1 / (i + 1));
    w.step(i, 1000 + i);
  }
  w.flushSync();
  // The process holding the lease dies (a pid that does not exist).
  log.database.prepare('UPDATE writer_leases SET pid = 999999999 WHERE run_id = 1').run();
  try {
    const r = await within(5000, cli('tail', path, '--interval', '10'));
    assert.deepEqual([r.code, r.out.split('\n').at(-1), r.err], [1, 'run 1 crashed at iteration 3 (its writer is gone without recording an end)', '']);
  } finally {
    await w.close();
    log.close();
  }
});

test('tail on a failed run prints the failure and exits 1; on a completed run it exits 0', async () => {
  const d = tempDir();
  const failed = join(d, 'failed.sqlite');
  await assert.rejects(smallRun(failed, { steps: 20, failAt: 7, json: join(d, 'f.json') }), /simulated failure/);
  const f = await within(5000, cli('tail', failed, '--interval', '10'));
  assert.deepEqual([f.code, f.out.split('\n').at(-1)], [1, 'run 1 failed: hook CallbackHook failed in afterStep at iteration 7: simulated failure at iteration 7']);
  const done = join(d, 'done.sqlite');
  await smallRun(done, { steps: 6, json: join(d, 'd.json') });
  const c = await within(5000, cli('tail', done, '--interval', '10'));
  assert.deepEqual([c.code, c.out.split('\n').at(-1)], [0, 'run 1 completed at iteration 6']);
});

test('tail --wait waits for the log to appear, then prints a line at each write with the iteration metrics.json has', async () => {
  const d = tempDir();
  const path = join(d, 'later.sqlite');
  const json = join(d, 'metrics.json');
  const tailed = within(30_000, cli('tail', path, '--wait', '--interval', '10'));
  await new Promise((r) => setTimeout(r, 50));
  await smallRun(path, { steps: 300, period: 25, json, stepMs: 2 });
  const r = await tailed;
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.equal(lines.at(-1), 'run 1 completed at iteration 300');
  const followed = lines.slice(0, -1).map((l) => Number(/^iter: (\d+) /.exec(l)?.[1]));
  const written = readFileSync(json, 'utf8').trim().split('\n').map((l) => Number(/"iteration": (\d+)/.exec(l)![1]));
  assert.ok(followed.length >= 3, `tail followed the run: ${r.out}`);
  // The first line is where tail caught up; each later one is a write point of the run.
  assert.deepEqual(followed.slice(1), written.slice(written.length - (followed.length - 1)));
});

test('tail --help documents its exit codes and --wait', async () => {
  const r = await cli('tail', '--help');
  assert.match(r.out, /exit 0 .*completed or stopped.* 1 .*failed or crashed.* 2 /s);
  assert.match(r.out, /--wait\s+wait for the log/);
});

/** metrics.json's lines by iteration. */
function jsonLines(path: string): Map<number, Record<string, number>> {
  return new Map(readFileSync(path, 'utf8').trim().split('\n').map((l) => {
    const o = JSON.parse(l) as Record<string, number>;
    return [o.iteration!, o] as const;
  }));
}

test('tail started between two writes prints the newest written line, then every later one, each with the iteration and values metrics.json has', async () => {
  const d = tempDir();
  const path = join(d, 'paused.sqlite');
  const json = join(d, 'metrics.json');
  const w = tf.variable(tf.scalar(0.3), true, 'w-paused');
  function* data() {
    for (let i = 0; ; i++) yield i;
  }
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let paused!: () => void;
  const reached = new Promise<void>((r) => (paused = r));
  const trainer = new SimpleTrainer<number>({ loss: (i) => w.sub(i % 5).square().mean() as tf.Scalar, variables: [w] }, data(), tf.train.sgd(0.05), { log: path, runName: 'paused' });
  trainer.register(
    new PeriodicWriter([new JSONWriter(json)], 25),
    // Iteration 40 waits: the log then holds steps 0..39, with writes at 24 only.
    { hook: new CallbackHook({ afterStep: async (t) => (t.iter === 40 ? (await t.appender!.flush(), paused(), await released) : undefined) }), hookTimeoutMs: null },
  );
  const training = trainer.train(0, 100);
  await reached;
  const tailed = within(30_000, cli('tail', path, '--interval', '10'));
  await new Promise((r) => setTimeout(r, 100));
  release();
  await training;
  w.dispose();
  const r = await tailed;
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.equal(lines.at(-1), 'run 1 completed at iteration 100');
  const written = jsonLines(json);
  const followed = lines.slice(0, -1).map((l) => {
    const [, iter, rest] = /^iter: (\d+) {2}(.*)$/.exec(l)!;
    return { iter: Number(iter), values: Object.fromEntries(rest!.split('  ').map((kv) => kv.split(': ') as [string, string])) };
  });
  assert.deepEqual(followed.map((f) => f.iter), [24, 49, 74, 99]);
  // Each value metrics.json has on that line, tail printed (to six digits).
  for (const f of followed) {
    const line = written.get(f.iter)!;
    const expected = Object.fromEntries(Object.entries(line).filter(([k]) => k !== 'iteration').map(([k, v]) => [k, fmt(v)]));
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((k) => [k, f.values[k]])), expected, `iteration ${f.iter}`);
  }
});

test('tail without --wait on a log not there yet fails in one line saying --wait waits for it; with --wait it says what it waits for', async () => {
  const d = tempDir();
  const path = join(d, 'not-yet.sqlite');
  const r = await cli('tail', path);
  assert.deepEqual(r, { code: 2, out: '', err: `trainledger: no trainledger log at ${path}: the file does not exist; tail --wait waits for it to appear` });
  const tailed = within(30_000, cli('tail', path, '--wait', '--run', 'later', '--interval', '10'));
  await new Promise((res) => setTimeout(res, 50));
  await smallRun(path, { steps: 5, name: 'first', json: join(d, 'first.json') });
  await smallRun(path, { steps: 5, name: 'later', json: join(d, 'later.json') });
  const t = await tailed;
  assert.equal(t.code, 0, t.err);
  assert.deepEqual(t.err.split('\n'), [`tail: waiting for ${path} to be created (Ctrl-C to stop)`, `tail: waiting for run "later" in ${path} (Ctrl-C to stop)`]);
  const noRun = await cli('tail', path, '--run', 'nope');
  assert.deepEqual([noRun.code, /; tail --wait waits for it to appear$/.test(noRun.err)], [2, true]);
});

test('tail following a run that is resumed from an earlier iteration says so and goes on along the new timeline', async () => {
  const path = join(tempDir(), 'resumed.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  const train = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      w.scalar('total_loss', true, i, 10 + i);
      if ((i + 1) % 5 === 0) w.event(event('writer-cursor', { writer: 'json', iter: i }));
      w.step(i, 1000 + i);
    }
    w.flushSync();
  };
  try {
    train(0, 10);
    const stepFour = log.lastBatches(1, 64).find((b) => b.stepIter === 4)!.seq;
    const tailed = within(10_000, cli('tail', path, '--interval', '10', '--window', '1'));
    await new Promise((r) => setTimeout(r, 100));
    w.event(event('resumed', { iter: 4, toSeq: stepFour, wallTime: 2000 }));
    train(5, 10);
    w.event(event('run-completed', { iter: 10, wallTime: 3000 }));
    w.commit();
    w.flushSync();
    const r = await tailed;
    assert.deepEqual([r.code, r.out.split('\n')], [0, ['iter: 9  total_loss: 19', 'run 1 resumed after iteration 4', 'iter: 9  total_loss: 19', 'run 1 completed at iteration 10']]);
  } finally {
    await w.close();
    log.close();
  }
});
