import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tap, map } from 'rxjs';
import { TrainerBase } from '../../src/engine/trainer-base.js';
import { HookBase } from '../../src/engine/hook-base.js';
import { EmptyTrainingRangeError, HookError } from '../../src/engine/errors.js';
import { ofType } from '../../src/operators/of-type.js';
import { every } from '../../src/operators/every.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import type { LifecycleEvent } from '../../src/engine/lifecycle-event.js';
import { tempDir } from '../helpers.js';

class Counting extends TrainerBase {
  failAt = -1;
  runStep(): void {
    if (this.iter === this.failAt) throw new Error(`boom at ${this.iter}`);
    this.storage.putScalar('x', this.iter);
    this.afterBackward(null);
  }
}

class Recorder extends HookBase {
  constructor(readonly calls: string[], readonly tag: string) {
    super();
  }
  override beforeTrain() { this.calls.push(`${this.tag}.beforeTrain@${this.trainer.iter}`); }
  override beforeStep() {
    assert.equal(this.trainer.storage.iter, this.trainer.iter);
    this.calls.push(`${this.tag}.beforeStep@${this.trainer.iter}`);
  }
  override afterBackward() { this.calls.push(`${this.tag}.afterBackward@${this.trainer.iter}`); }
  override afterStep() {
    assert.equal(this.trainer.storage.iter, this.trainer.iter);
    this.calls.push(`${this.tag}.afterStep@${this.trainer.iter}`);
  }
  override afterTrain() { this.calls.push(`${this.tag}.afterTrain@${this.trainer.iter}`); }
}

test('train(0, 3) runs every phase in order and ends with iter === maxIter', async () => {
  const calls: string[] = [];
  const t = new Counting();
  t.register(new Recorder(calls, 'a'), null, new Recorder(calls, 'b'));
  await t.train(0, 3);
  assert.equal(t.iter, 3);
  assert.equal(t.storage.iter, 3);
  const expected = ['a.beforeTrain@0', 'b.beforeTrain@0'];
  for (let i = 0; i < 3; i++) {
    for (const p of ['beforeStep', 'afterBackward', 'afterStep']) expected.push(`a.${p}@${i}`, `b.${p}@${i}`);
  }
  expected.push('a.afterTrain@3', 'b.afterTrain@3');
  assert.deepEqual(calls, expected);
});

test('a throw at iteration 1 runs afterTrain with iter === 1, skips afterStep of 1 and rethrows', async () => {
  const calls: string[] = [];
  const t = new Counting();
  t.failAt = 1;
  t.register(new Recorder(calls, 'h'));
  await assert.rejects(t.train(0, 3), /boom at 1/);
  assert.equal(t.iter, 1);
  assert.ok(!calls.includes('h.afterStep@1'));
  assert.equal(calls.at(-1), 'h.afterTrain@1');
  assert.equal(t.storage.state.info.status, 'failed');
});

test('a failed run is recorded in the log with message, stack and iteration', async () => {
  const path = join(tempDir(), 'f.sqlite');
  const t = new Counting({ log: path, runName: 'failing' });
  t.failAt = 2;
  await assert.rejects(t.train(0, 5));
  const log = LogFile.open(path, { readonly: true });
  const { state } = replayRun(log, log.run('failing').id);
  assert.equal(state.info.status, 'failed');
  assert.equal(state.info.endIter, 2);
  assert.match(state.info.statusDetail!, /boom at 2/);
  assert.equal(state.iter, 2);
  log.close();
});

test('a throwing class hook fails the step, is logged as hook-failed, and afterTrain still runs', async () => {
  const path = join(tempDir(), 'h.sqlite');
  class Bad extends HookBase {
    override afterStep() {
      if (this.trainer.iter === 1) throw new Error('bad hook');
    }
  }
  const calls: string[] = [];
  const t = new Counting({ log: path });
  t.register(new Bad(), new Recorder(calls, 'r'));
  await assert.rejects(t.train(0, 4), (e: unknown) => e instanceof HookError && e.hook === 'Bad' && e.phase === 'afterStep' && e.iter === 1);
  assert.ok(!calls.includes('r.afterStep@1'), 'hooks after the failing one do not run for that step');
  assert.equal(calls.at(-1), 'r.afterTrain@1');
  const log = LogFile.open(path, { readonly: true });
  const { state } = replayRun(log, 1);
  assert.deepEqual(state.info.hookFailures.map((f) => [f.hook, f.phase, f.iter]), [['Bad', 'afterStep', 1]]);
  log.close();
});

test('a reactive hook that throws inside its pipeline fails the step synchronously', async () => {
  const t = new Counting();
  let after = 0;
  t.register(
    (e$) => e$.pipe(ofType('step-completed'), tap((e) => { if (e.iter === 2) throw new Error('reactive boom'); })),
    new (class extends HookBase {
      override afterStep() { after++; }
      override afterTrain() { after += 100; }
    })(),
  );
  await assert.rejects(t.train(0, 5), (e: unknown) => e instanceof HookError && /reactive boom/.test(e.message));
  assert.equal(t.iter, 2);
  assert.equal(after, 2 + 100);
});

test('class and reactive hooks run interleaved in registration order', async () => {
  const calls: string[] = [];
  const t = new Counting();
  t.register(
    new Recorder(calls, 'a'),
    (e$) => e$.pipe(ofType('step-completed'), tap((e) => calls.push(`rx.afterStep@${e.iter}`))),
    new Recorder(calls, 'b'),
  );
  await t.train(0, 1);
  const step = calls.filter((c) => c.includes('afterStep'));
  assert.deepEqual(step, ['a.afterStep@0', 'rx.afterStep@0', 'b.afterStep@0']);
});

test('reactive hooks filter with every(n) and see metric events', async () => {
  const seen: number[] = [];
  const metrics: string[] = [];
  const t = new Counting();
  t.register(
    (e$) => e$.pipe(ofType('step-completed'), every(3), tap((e) => seen.push(e.iter))),
    (e$) => e$.pipe(ofType('metric-recorded'), tap((e) => metrics.push(`${e.name}@${e.iter}`))),
  );
  await t.train(0, 10);
  assert.deepEqual(seen, [2, 5, 8]);
  assert.deepEqual(metrics.slice(0, 2), ['x@0', 'x@1']);
});

test('async hooks are awaited before the loop goes on', async () => {
  const order: string[] = [];
  class Slow extends HookBase {
    override async afterStep() {
      await new Promise((r) => setTimeout(r, 5));
      order.push(`slow@${this.trainer.iter}`);
    }
  }
  const t = new Counting();
  t.register(new Slow(), (e$) => e$.pipe(ofType('step-completed'), map(async (e) => { await new Promise((r) => setTimeout(r, 1)); order.push(`rx@${e.iter}`); })), new Recorder(order, 'r'));
  await t.train(0, 2);
  const steps = order.filter((o) => !o.includes('before') && !o.includes('Backward') && !o.includes('Train'));
  assert.deepEqual(steps, ['slow@0', 'rx@0', 'r.afterStep@0', 'slow@1', 'rx@1', 'r.afterStep@1']);
});

test('a registration handle removes its hooks', async () => {
  const calls: string[] = [];
  const t = new Counting();
  const handle = t.register(new Recorder(calls, 'a'), (e$) => e$.pipe(tap(() => calls.push('rx'))));
  handle.remove();
  await t.train(0, 2);
  assert.deepEqual(calls, []);
});

test('hooks can be reused after training: a second train() runs them again', async () => {
  let n = 0;
  const t = new Counting();
  t.register((e$) => e$.pipe(ofType('train-completed'), tap(() => n++)));
  await t.train(0, 2);
  await t.train(0, 2);
  assert.equal(n, 2);
});

test('startIter >= maxIter is reported, not silently accepted', async () => {
  const t = new Counting();
  await assert.rejects(t.train(5, 5), EmptyTrainingRangeError);
  await assert.rejects(t.train(6, 5), (e: unknown) => (e as { code: string }).code === 'ERR_EMPTY_TRAINING_RANGE');
});

test('requestStop ends the loop cleanly after the current iteration and logs the reason', async () => {
  const path = join(tempDir(), 's.sqlite');
  const t = new Counting({ log: path });
  const events: LifecycleEvent['type'][] = [];
  t.events$.subscribe((e) => events.push(e.type));
  t.register(new (class extends HookBase {
    override afterStep() { if (this.trainer.iter === 3) this.trainer.requestStop('plateau'); }
  })());
  await t.train(0, 10);
  assert.equal(t.iter, 4);
  assert.equal(events.at(-1), 'train-stopped');
  const log = LogFile.open(path, { readonly: true });
  const { state } = replayRun(log, 1);
  assert.equal(state.info.status, 'stopped');
  assert.equal(state.info.statusDetail, 'plateau');
  log.close();
});

test('stateDict round-trips the states of two hooks of one class', async () => {
  class Counter extends HookBase {
    count = 0;
    override afterStep() { this.count++; }
    override stateDict() { return { count: this.count }; }
    override loadStateDict(s: unknown) { this.count = (s as { count: number }).count; }
  }
  const a = new Counter();
  const b = new Counter();
  b.count = 100;
  const t = new Counting();
  t.register(a, b);
  await t.train(0, 3);
  const sd = await t.stateDict();
  assert.deepEqual(sd, { iteration: 3, hooks: { Counter: { count: 3 }, 'Counter#2': { count: 103 } } });
  const a2 = new Counter();
  const b2 = new Counter();
  const t2 = new Counting();
  t2.register(a2, b2);
  await t2.loadStateDict(sd);
  assert.equal(t2.iter, 3);
  assert.deepEqual([a2.count, b2.count], [3, 103]);
});

test('an async reactive hook that rejects on a metric event fails the run (once the loop can see the rejection)', async () => {
  const t = new Counting();
  t.register((e$) => e$.pipe(ofType('metric-recorded'), map(async (e) => { if (e.iter === 2) throw new Error('async metric boom'); })));
  await assert.rejects(t.train(0, 10), (e: unknown) => e instanceof HookError && /async metric boom/.test(e.message));
  // A synchronous loop sees a promise's rejection when it next yields (every 100 ms) or at the end.
  assert.equal(t.storage.state.info.status, 'failed');
});

test('the loop reads a clock once per step (wall time included), and step wall times follow the wall clock', async () => {
  const t = new Counting();
  const reads: number[] = [];
  let n = 0;
  const now = performance.now.bind(performance);
  const dateNow = Date.now;
  t.register(new (class extends HookBase {
    override beforeStep() { reads.push(n); }
  })());
  const before = Date.now() / 1000;
  performance.now = () => (n++, now());
  Date.now = () => (n++, dateNow());
  try {
    await t.train(0, 200);
  } finally {
    performance.now = now;
    Date.now = dateNow;
  }
  const after = Date.now() / 1000;
  // Steps 1..199 start after one read each (steps that yield to the event loop read once more).
  const perStep = reads.slice(1).map((r, i) => r - reads[i]!);
  assert.equal(Math.min(...perStep), 1);
  assert.ok(perStep.filter((d) => d !== 1).length <= 2, `reads per step: ${perStep.join(',')}`);
  const walls = t.storage.state.stepTimes.values().map(([w]) => w);
  assert.equal(walls.length, 200);
  for (let i = 1; i < walls.length; i++) assert.ok(walls[i]! >= walls[i - 1]!, 'wall times never go back');
  assert.ok(walls[0]! >= before - 0.01 && walls.at(-1)! <= after + 0.01, `wall times ${walls[0]}..${walls.at(-1)} within ${before}..${after}`);
});

test('trainer.state shows hooks the iteration, range, storage, step clock and stop reason the loop runs with', async () => {
  const seen: Array<{ iter: number; storageIter: number; startIter: number; maxIter: number; sameStorage: boolean; clock: boolean }> = [];
  class Watch extends HookBase {
    override afterStep() {
      const s = this.trainer.state;
      seen.push({ iter: s.iter, storageIter: s.storage.iter, startIter: s.startIter, maxIter: s.maxIter, sameStorage: s.storage === this.trainer.storage, clock: s.lastStepEnd === this.trainer.lastStepEnd });
      if (s.iter === 4) this.trainer.requestStop('enough');
    }
  }
  const t = new Counting();
  t.register(new Watch());
  await t.train(2, 10);
  const step = (iter: number) => ({ iter, storageIter: iter, startIter: 2, maxIter: 10, sameStorage: true, clock: true });
  assert.deepEqual(seen, [step(2), step(3), step(4)]);
  assert.deepEqual([t.state.iter, t.iter, t.state.stopReason, t.state.grads], [5, 5, 'enough', null]);
  assert.ok(Number.isFinite(t.state.lastStepEnd));
});
