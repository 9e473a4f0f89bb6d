import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evolveAll } from '../../src/storage/evolve.js';
import { SmoothingHintMismatchError } from '../../src/storage/errors.js';
import { StateFold } from '../../src/storage/state-fold.js';
import { initialState, type StorageState } from '../../src/storage/storage-state.js';
import { event, type TrainEvent } from '../../src/events/train-event.js';
import { observe } from '../state-view.js';
import { ReferenceRun, ReferenceStorage, referenceState } from '../oracle/reference-storage.js';
import type { ObservedState } from '../oracle/observed-state.js';
import { METRIC_NAMES, RunStats, SEED, hintOf, op, rareEvent, runStarted } from '../oracle/random-run.js';
import { must } from '../helpers.js';

interface HandedOut {
  readonly state: StorageState;
  readonly observed: ObservedState;
}

test('a StateFold fed scalars, steps and rare events, and resumed from states it handed out, produces the reference state at every point', () => {
  const stats = new RunStats();
  fc.assert(
    fc.property(
      fc.array(op, { minLength: 20, maxLength: 400, size: 'max' }),
      fc.integer({ min: 1, max: 40 }),
      fc.option(fc.integer({ min: 1, max: 40 })),
      fc.integer({ min: 1, max: 20 }),
      (ops, maxLength, historyMaxLength, every) => {
        const run = new ReferenceRun({ maxLength });
        let fold = new StateFold(initialState({ maxLength }));
        const apply = (e: TrainEvent): void => {
          run.append(e);
          // The hot events through the calls the decoder and EventStorage use, the rest through apply().
          if (e.type === 'scalar') fold.scalar(e.data.name, e.data.value, e.data.smoothingHint, e.data.iter);
          else if (e.type === 'step') fold.step(e.data.iter, e.data.wallTime);
          else fold.apply(e);
        };
        // States handed out right after step k (a resume starts from one), and every state handed out.
        const afterStep = new Map<number, HandedOut>();
        const handedOut: HandedOut[] = [];
        apply(runStarted(0, historyMaxLength ?? undefined));
        ops.forEach((o, n) => {
          const iter = run.state.iter;
          if (o.kind === 'put') {
            stats.put(o.value);
            const at = o.back === null ? iter : Math.max(0, iter - o.back);
            apply(event('scalar', { name: must(METRIC_NAMES[o.name], `metric ${o.name}`), value: o.value, smoothingHint: hintOf(o.name), iter: at }));
          } else if (o.kind === 'step') {
            apply(event('step', { iter, wallTime: o.wallTime }));
          } else if (o.kind === 'event') {
            apply(rareEvent(o.which, iter, o.value));
          } else if (o.back % 4 === 3) {
            // The reducer takes events in any order: a resumed event folded where it stands moves
            // the iteration to the step after the one it names (here not the state's iteration).
            apply(event('resumed', { iter: Math.max(0, iter - o.back), toSeq: n, wallTime: n }));
            stats.resumedInPlace++;
            // Steps before it may repeat iterations after it: resume only from steps after it.
            afterStep.clear();
          } else {
            const done = [...afterStep.keys()];
            const k = done[Math.max(0, done.length - 1 - o.back)];
            if (k === undefined) return;
            const from = must(afterStep.get(k), `the state after step ${k}`).state;
            for (const it of done) if (it > k) afterStep.delete(it);
            const resumed = event('resumed', { iter: k, toSeq: n, wallTime: n });
            run.resume(resumed);
            fold = new StateFold(from);
            fold.apply(resumed);
          }
          if (n % every === 0) {
            const state = fold.finish();
            const observed = run.state.observe();
            assert.deepStrictEqual(observe(state), observed);
            handedOut.push({ state, observed });
            if (o.kind === 'step') afterStep.set(iter, { state, observed });
          }
        });
        const expected = run.state.observe();
        assert.deepStrictEqual(observe(fold.finish()), expected);
        // The live timeline's events in one batch fold to the same state.
        assert.deepStrictEqual(observe(evolveAll(initialState({ maxLength }), run.events)), expected);
        // No later fold (a branch from an older state included) changed a state handed out.
        for (const h of handedOut) assert.deepStrictEqual(observe(h.state), h.observed);
        stats.finished(run);
      },
    ),
    { numRuns: 80, seed: SEED },
  );
  assert.equal(stats.below(10), null, 'the generated runs put scalars (NaN, ±Inf, -0), evicted, smoothed and resumed');
});

test('a fold continues from the state it produced and never changes a state it handed out', () => {
  const fold = new StateFold(initialState());
  fold.scalar('loss', 1, true, 0);
  fold.step(0, 10);
  const first = fold.finish();
  assert.equal(fold.finish(), first, 'nothing new: the same state');
  fold.scalar('loss', 2, true, 1);
  assert.equal(fold.iter, 1);
  const second = fold.finish();
  assert.deepEqual(first.metrics.histories[0]!.values(), [[1, 0]]);
  assert.deepEqual(second.metrics.histories[0]!.values(), [
    [1, 0],
    [2, 1],
  ]);
  assert.equal(second.stepTimes, first.stepTimes, 'unchanged parts are shared');
});

test('a fold call that throws applies nothing', () => {
  const fold = new StateFold(initialState());
  fold.scalar('lr', 0.1, false, 0);
  assert.throws(() => fold.scalar('lr', 0.2, true, 0), SmoothingHintMismatchError);
  fold.scalar('lr', 0.3, false, 0);
  assert.deepEqual(fold.finish().metrics.histories[0]!.values(), [
    [0.1, 0],
    [0.3, 0],
  ]);
});

test('writer cursors folded beside other run events keep the last cursor per writer and leave earlier states as they were', () => {
  const fold = new StateFold(initialState());
  const cursor = (writer: string, iter: number): TrainEvent => event('writer-cursor', { writer, iter });
  const events = [cursor('json', 19), event('hook-failed', { hook: 'H', phase: 'afterStep', iter: 20, message: 'x' }), cursor('json', 39), cursor('csv', 39), cursor('json', 59)];
  fold.apply(must(events[0], 'the first event'));
  const first = fold.finish();
  for (const e of events.slice(1)) fold.apply(e);
  const second = fold.finish();
  assert.deepStrictEqual(first.info.writerCursors, { json: { writer: 'json', iter: 19 } });
  assert.deepStrictEqual(second.info.writerCursors, { json: { writer: 'json', iter: 59 }, csv: { writer: 'csv', iter: 39 } });
  assert.deepStrictEqual(second.info.hookFailures, [{ hook: 'H', phase: 'afterStep', iter: 20, message: 'x' }]);
  assert.ok(Object.isFrozen(second.info) && Object.isFrozen(second.info.writerCursors) && Object.isFrozen(second.info.writerCursors['json']));
  assert.deepStrictEqual(observe(second), referenceState(events).observe());
  assert.deepStrictEqual(observe(evolveAll(initialState(), events)), referenceState(events).observe());
});

test("a write-point event (a request to the log's commit thread) folds to nothing", () => {
  const events = [event('scalar', { name: 'loss', value: 1, smoothingHint: true, iter: 0 }), event('write-point', { writers: ['json:x'] })];
  const base = evolveAll(initialState(), events.slice(0, 1));
  assert.deepStrictEqual(observe(evolveAll(base, events.slice(1))), observe(base));
  assert.deepStrictEqual(observe(evolveAll(initialState(), events)), referenceState(events).observe());
});

test('step times keep the last historyMaxLength of them however the events are batched, as the reference does', () => {
  const op = fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }) });
  let shrinks = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 30 }), fc.array(op, { minLength: 20, maxLength: 400, size: 'max' }), fc.integer({ min: 1, max: 50 }), (initial, ops, every) => {
      const fold = new StateFold(initialState({ maxLength: initial }));
      const reference = new ReferenceStorage({ maxLength: initial });
      ops.forEach((o, n) => {
        if (o === null) {
          const iter = reference.iter;
          fold.step(iter, 1000 + iter);
          reference.apply(event('step', { iter, wallTime: 1000 + iter }));
        } else {
          // Evicted when maxLength shrinks; evicted ones do not come back when it grows.
          if (o < reference.steps.samples.length) shrinks++;
          const e = runStarted(reference.iter, o);
          fold.apply(e);
          reference.apply(e);
        }
        if (n % every === 0) assert.deepStrictEqual(observe(fold.finish()), reference.observe());
      });
      assert.deepStrictEqual(observe(fold.finish()), reference.observe());
    }),
    { numRuns: 60, seed: SEED },
  );
  assert.ok(shrinks >= 10, `a new maxLength evicted step times ${shrinks} times`);
});

test('a fold holds buffers for the samples of one batch, not for every metric it has seen', () => {
  const fold = new StateFold(initialState());
  for (let b = 0; b < 100; b++) {
    for (let i = 0; i < 100; i++) fold.scalar(`m${b * 100 + i}`, i, true, 0);
    fold.finish();
  }
  const state = fold.finish();
  assert.equal(state.metrics.names.length, 10_000);
  // 10,000 metrics; at most 100 samples wait at a time (a position, a value and an iteration each).
  assert.ok(fold.pendingBytes <= 16 * 256, `pendingBytes ${fold.pendingBytes}`);
});
