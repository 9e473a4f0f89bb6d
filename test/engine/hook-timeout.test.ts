import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NEVER, map, switchMap } from 'rxjs';
import { TrainerBase } from '../../src/engine/trainer-base.js';
import type { ReactiveHook } from '../../src/engine/reactive-hook.js';
import { HookBase } from '../../src/engine/hook-base.js';
import { HookError, HookTimeoutError } from '../../src/engine/errors.js';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import { ofType } from '../../src/operators/of-type.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { tempDir } from '../helpers.js';

class Counting extends TrainerBase {
  runStep(): void {
    this.storage.putScalar('x', this.iter);
  }
}

const never = () => new Promise<void>(() => {});

class HangsAt extends HookBase {
  afterTrains = 0;
  constructor(readonly at: number) {
    super();
  }
  override afterStep(): void | Promise<void> {
    if (this.trainer.iter === this.at) return never();
  }
  override afterTrain() {
    this.afterTrains++;
  }
}

test('a class hook that never settles fails its step after hookTimeoutMs with a typed error naming hook, phase and iteration; the run is recorded failed', async () => {
  const path = join(tempDir(), 't.sqlite');
  const t = new Counting({ log: path, runName: 't', hookTimeoutMs: 50 });
  const hook = new HangsAt(2);
  t.register(hook);
  const started = performance.now();
  await assert.rejects(t.train(0, 5), (e: unknown) => {
    assert.ok(e instanceof HookTimeoutError, String(e));
    assert.ok(e instanceof HookError, 'a timeout is a hook failure');
    assert.equal(e.code, 'ERR_HOOK_TIMEOUT');
    assert.deepEqual([e.hook, e.phase, e.iter, e.timeoutMs], ['HangsAt', 'afterStep', 2, 50]);
    assert.match(e.message, /^hook HangsAt did not settle within hookTimeoutMs=50 in afterStep at iteration 2/);
    return true;
  });
  assert.ok(performance.now() - started < 2000);
  assert.equal(hook.afterTrains, 1);
  const log = LogFile.open(path, { readonly: true });
  const { state } = replayRun(log, log.run('t').id);
  log.close();
  assert.equal(state.info.status, 'failed');
  assert.equal(state.info.endIter, 2);
  assert.deepEqual(state.info.hookFailures.map((f) => [f.hook, f.phase, f.iter]), [['HangsAt', 'afterStep', 2]]);
});

test('a reactive hook whose promise never settles times out naming the event and its step', async () => {
  const t = new Counting({ hookTimeoutMs: 30 });
  const stuck: ReactiveHook = (e$) => e$.pipe(ofType('step-completed'), map((e) => (e.iter === 1 ? never() : undefined)));
  t.register(stuck);
  await assert.rejects(t.train(0, 5), (e: unknown) => e instanceof HookTimeoutError && e.hook === 'stuck' && e.phase === 'afterStep' && e.event === 'step-completed' && e.iter === 1);
  assert.equal(t.storage.state.info.status, 'failed');
});

test('a metric event whose reactive promise never settles times out naming metric-recorded and its step', async () => {
  const t = new Counting({ hookTimeoutMs: 30 });
  const stuck: ReactiveHook = (e$) => e$.pipe(ofType('metric-recorded'), map((e) => (e.iter === 3 ? never() : undefined)));
  t.register(stuck);
  await assert.rejects(t.train(0, 5), (e: unknown) => e instanceof HookTimeoutError && e.phase === 'metric-recorded' && e.iter === 3);
});

test('an afterTrain hook that never settles times out, and the run is still recorded failed', async () => {
  const t = new Counting({ hookTimeoutMs: 30 });
  t.register(new (class StuckAtEnd extends HookBase {
    override afterTrain() { return never(); }
  })());
  await assert.rejects(t.train(0, 3), (e: unknown) => e instanceof HookTimeoutError && e.hook === 'StuckAtEnd' && e.phase === 'afterTrain' && e.iter === 3);
  assert.equal(t.storage.state.info.status, 'failed');
});

test('a reactive pipeline that does not complete when training ends times out in afterTrain', async () => {
  const t = new Counting({ hookTimeoutMs: 30 });
  const endless: ReactiveHook = (e$) => e$.pipe(ofType('train-started'), switchMap(() => NEVER));
  t.register(endless);
  await assert.rejects(t.train(0, 3), (e: unknown) => e instanceof HookTimeoutError && e.hook === 'endless' && e.phase === 'afterTrain' && e.event === 'train-completed');
});

test('hookTimeoutMs given at registration overrides the trainer-wide one, and null turns it off for that hook', async () => {
  class Slow extends HookBase {
    constructor(readonly ms: number) {
      super();
    }
    override async afterStep() {
      if (this.trainer.iter === 1) await sleep(this.ms);
    }
  }
  const t = new Counting({ hookTimeoutMs: 20 });
  t.register({ hook: new Slow(60), hookTimeoutMs: 1000 }, { hook: new Slow(60), hookTimeoutMs: null });
  await t.train(0, 3);
  const u = new Counting({ hookTimeoutMs: 1000 });
  u.register(new Slow(5), { hook: new (class Tight extends Slow {})(60), hookTimeoutMs: 20 });
  await assert.rejects(u.train(0, 3), (e: unknown) => e instanceof HookTimeoutError && e.hook === 'Tight' && e.timeoutMs === 20);
});

test('a timer is armed only when a hook returns a promise, never for synchronous hooks', async () => {
  const t = new Counting({ hookTimeoutMs: 1000 });
  t.register(
    new (class Sync extends HookBase {
      override beforeStep() {}
      override afterStep() {}
    })(),
    new (class SometimesAsync extends HookBase {
      override afterStep(): void | Promise<void> {
        if (this.trainer.iter % 10 === 9) return Promise.resolve();
      }
    })(),
  );
  const real = globalThis.setTimeout;
  let armed = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    armed++;
    return real(...args);
  }) as typeof setTimeout;
  try {
    await t.train(0, 100);
  } finally {
    globalThis.setTimeout = real;
  }
  assert.equal(armed, 10);
});

test('hookTimeoutMs must be a positive number of milliseconds a timer can wait, named when it is not', () => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '50']) {
    assert.throws(
      () => new Counting({ hookTimeoutMs: bad as number }),
      (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(`hookTimeoutMs must be`) && e.message.includes(`got ${typeof bad === 'string' ? '"50"' : String(bad)}`),
    );
    assert.throws(() => new Counting().register({ hook: new HangsAt(0), hookTimeoutMs: bad as number }), InvalidArgumentError);
  }
});
