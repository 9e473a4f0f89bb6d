import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { concatMap, filter, map, mergeMap, of, tap, throwError, type Observable } from 'rxjs';
import { TrainerBase } from '../../src/engine/trainer-base.js';
import type { ReactiveHook } from '../../src/engine/reactive-hook.js';
import { HookBase } from '../../src/engine/hook-base.js';
import { HookError } from '../../src/engine/errors.js';
import { ofType } from '../../src/operators/of-type.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import type { LifecycleEvent } from '../../src/engine/lifecycle-event.js';
import { tempDir } from '../helpers.js';

class Counting extends TrainerBase {
  runStep(): void {
    this.storage.putScalar('x', this.iter);
  }
}

/** Counts the afterStep and afterTrain calls of a class hook registered after the reactive one. */
class Witness extends HookBase {
  afterSteps: number[] = [];
  afterTrains = 0;
  override afterStep() {
    this.afterSteps.push(this.trainer.iter);
  }
  override afterTrain() {
    this.afterTrains++;
  }
}

interface Expected {
  readonly phase: string;
  readonly event: string;
  readonly iter: number;
  readonly message: RegExp;
}

/** Trains 5 steps with `hook` and checks train() rejects naming the hook, phase, event and step, and the log says failed. */
async function expectFailure(hook: ReactiveHook, want: Expected): Promise<{ t: Counting; witness: Witness; events: LifecycleEvent['type'][] }> {
  const path = join(tempDir(), 'r.sqlite');
  const t = new Counting({ log: path, runName: 'r' });
  const witness = new Witness();
  const events: LifecycleEvent['type'][] = [];
  t.events$.subscribe((e) => events.push(e.type));
  t.register(hook, witness);
  await assert.rejects(t.train(0, 5), (e: unknown) => {
    assert.ok(e instanceof HookError, String(e));
    assert.deepEqual({ hook: e.hook, phase: e.phase, event: e.event, iter: e.iter }, { hook: hook.name, phase: want.phase, event: want.event, iter: want.iter });
    assert.match(e.message, want.message);
    assert.match(e.message, new RegExp(`hook ${hook.name} failed in ${want.phase}.* at iteration ${want.iter}`));
    return true;
  });
  assert.equal(witness.afterTrains, 1, 'afterTrain ran once');
  const log = LogFile.open(path, { readonly: true });
  const { state } = replayRun(log, log.run('r').id);
  log.close();
  assert.equal(state.info.status, 'failed');
  assert.deepEqual(state.info.hookFailures.map((f) => [f.hook, f.phase, f.iter]), [[hook.name, want.phase, want.iter]]);
  return { t, witness, events };
}

test('a reactive hook that throws synchronously fails the step whose event it was processing', async () => {
  const syncThrow: ReactiveHook = (e$) => e$.pipe(ofType('step-completed'), tap((e) => { if (e.iter === 2) throw new Error('sync boom'); }));
  const { witness, events } = await expectFailure(syncThrow, { phase: 'afterStep', event: 'step-completed', iter: 2, message: /sync boom/ });
  assert.deepEqual(witness.afterSteps, [0, 1]);
  assert.equal(events.at(-1), 'train-failed');
});

test('a reactive pipeline that errors as an observable fails the step of the event it was fed', async () => {
  const observableError: ReactiveHook = (e$) =>
    e$.pipe(ofType('step-started'), mergeMap((e) => (e.iter === 3 ? throwError(() => new Error('observable boom')) : of(e))));
  const { witness } = await expectFailure(observableError, { phase: 'beforeStep', event: 'step-started', iter: 3, message: /observable boom/ });
  assert.deepEqual(witness.afterSteps, [0, 1, 2]);
});

test('a promise a reactive hook returns for a metric event, rejecting after an await, fails that step before its afterStep hooks', async () => {
  const lateMetric: ReactiveHook = (e$) =>
    e$.pipe(ofType('metric-recorded'), map(async (e) => { await sleep(5); if (e.iter === 2) throw new Error('late metric boom'); }));
  const { t, witness } = await expectFailure(lateMetric, { phase: 'metric-recorded', event: 'metric-recorded', iter: 2, message: /late metric boom/ });
  assert.deepEqual(witness.afterSteps, [0, 1]);
  assert.equal(t.iter, 2);
});

test('a metric promise that rejects after the last step finished still fails the run, naming the last step', async () => {
  const lastStep: ReactiveHook = (e$) =>
    e$.pipe(ofType('metric-recorded'), map(async (e) => { await sleep(20); if (e.iter === 4) throw new Error('after the last step'); }));
  await expectFailure(lastStep, { phase: 'metric-recorded', event: 'metric-recorded', iter: 4, message: /after the last step/ });
});

test('a rejection from inside mergeMap names the step and event it was processing, not afterTrain', async () => {
  const merged: ReactiveHook = (e$) =>
    e$.pipe(ofType('metric-recorded'), mergeMap(async (e) => { if (e.iter === 2) throw new Error('mergeMap boom'); return e; }));
  const { witness } = await expectFailure(merged, { phase: 'metric-recorded', event: 'metric-recorded', iter: 2, message: /mergeMap boom/ });
  assert.deepEqual(witness.afterSteps, [0, 1]);
});

test('a rejection from inside concatMap names the step and event it was processing', async () => {
  const concatenated: ReactiveHook = (e$) =>
    e$.pipe(ofType('step-completed'), concatMap(async (e) => { if (e.iter === 1) throw new Error('concatMap boom'); return e; }));
  const { witness } = await expectFailure(concatenated, { phase: 'afterStep', event: 'step-completed', iter: 1, message: /concatMap boom/ });
  // Found at the settle point after the phase: the hooks of that phase ran, no later step did.
  assert.deepEqual(witness.afterSteps, [0, 1]);
});

test('an error a pipeline raises after the last step, once the loop is in afterTrain, fails the run as an afterTrain failure', async () => {
  const slow: ReactiveHook = (e$) =>
    e$.pipe(ofType('metric-recorded'), mergeMap(async (e) => { await sleep(30); if (e.iter === 4) throw new Error('landed in afterTrain'); return e; }));
  const { events } = await expectFailure(slow, { phase: 'afterTrain', event: 'train-completed', iter: 5, message: /landed in afterTrain/ });
  // The loop had ended cleanly when the error arrived: hooks were told train-completed.
  assert.equal(events.at(-1), 'train-completed');
});

test('a reactive hook that throws on train-completed fails the run, recorded failed, naming afterTrain and the end iteration', async () => {
  const atEnd: ReactiveHook = (e$) => e$.pipe(ofType('train-completed'), tap(() => { throw new Error('end boom'); }));
  await expectFailure(atEnd, { phase: 'afterTrain', event: 'train-completed', iter: 5, message: /end boom/ });
});

test('a promise a reactive hook returns on train-completed, rejecting after an await, fails the run', async () => {
  const atEnd: ReactiveHook = (e$) => e$.pipe(ofType('train-completed'), map(async () => { await sleep(5); throw new Error('async end boom'); }));
  await expectFailure(atEnd, { phase: 'afterTrain', event: 'train-completed', iter: 5, message: /async end boom/ });
});

test('a reactive pipeline that errors as it is subscribed fails beforeTrain at startIter', async () => {
  const atSubscribe: ReactiveHook = (): Observable<unknown> => throwError(() => new Error('subscribe boom'));
  const { witness } = await expectFailure(atSubscribe, { phase: 'beforeTrain', event: 'train-started', iter: 0, message: /subscribe boom/ });
  assert.deepEqual(witness.afterSteps, []);
});

test('a metric put by an afterStep hook, whose reactive promise rejects later, fails that step', async () => {
  const path = join(tempDir(), 'm.sqlite');
  const t = new Counting({ log: path, runName: 'm' });
  const late: ReactiveHook = (e$) =>
    e$.pipe(ofType('metric-recorded'), filter((e) => e.name === 'eval'), map(async () => { await sleep(5); throw new Error('eval boom'); }));
  t.register(late, new (class Evaluator extends HookBase {
    override afterStep() { if (this.trainer.iter === 3) this.trainer.storage.putScalar('eval', 1); }
  })());
  await assert.rejects(t.train(0, 6), (e: unknown) => e instanceof HookError && e.phase === 'metric-recorded' && e.iter === 3 && /eval boom/.test(e.message));
  assert.equal(t.storage.state.info.status, 'failed');
  assert.equal(t.storage.state.info.endIter, 3);
});
