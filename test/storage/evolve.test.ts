import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StateFold, SmoothingHintMismatchError, evolveAll } from '../../src/storage/evolve.js';
import { initialState } from '../../src/storage/storage-state.js';
import type { TrainEvent } from '../../src/events/train-event.js';
import { view } from '../state-view.js';

const eventList = fc
  .array(fc.tuple(fc.nat(5), fc.double(), fc.nat(3)), { maxLength: 3000 })
  .map((ops) => {
    const events: TrainEvent[] = [{ type: 'run-started', v: 1, data: { name: 'r', config: null, startIter: 0, historyMaxLength: 50, wallTime: 0, host: { hostname: 'h', platform: 'p', node: 'n', pid: 1 } } }];
    let iter = 0;
    for (const [name, value, kind] of ops) {
      if (kind === 0) events.push({ type: 'step', v: 1, data: { iter: iter++, wallTime: value } });
      else if (kind === 3 && name === 0) events.push({ type: 'writer-cursor', v: 1, data: { writer: 'w', iter } });
      else events.push({ type: 'scalar', v: 1, data: { name: `m${name}`, value, smoothingHint: name % 2 === 0, iter } });
    }
    return events;
  });

test('a StateFold fed through scalar() and step() produces what evolveAll produces from the events', () => {
  fc.assert(
    fc.property(eventList, fc.integer({ min: 1, max: 700 }), (events, every) => {
      const fold = new StateFold(initialState());
      let n = 0;
      for (const e of events) {
        if (e.type === 'scalar') fold.scalar(e.data.name, e.data.value, e.data.smoothingHint, e.data.iter);
        else if (e.type === 'step') fold.step(e.data.iter, e.data.wallTime);
        else fold.apply(e);
        // Producing states along the way must not change where the fold ends.
        if (++n % every === 0) fold.finish();
      }
      assert.deepStrictEqual(view(fold.finish()), view(evolveAll(initialState(), events)));
    }),
    { numRuns: 40 },
  );
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
  const cursor = (writer: string, iter: number): TrainEvent => ({ type: 'writer-cursor', v: 1, data: { writer, iter } });
  fold.apply(cursor('json', 19));
  const first = fold.finish();
  fold.apply({ type: 'hook-failed', v: 1, data: { hook: 'H', phase: 'afterStep', iter: 20, message: 'x' } });
  fold.apply(cursor('json', 39));
  fold.apply(cursor('csv', 39));
  fold.apply(cursor('json', 59));
  const second = fold.finish();
  assert.deepEqual(first.info.writerCursors, { json: { writer: 'json', iter: 19 } });
  assert.deepEqual(second.info.writerCursors, { json: { writer: 'json', iter: 59 }, csv: { writer: 'csv', iter: 39 } });
  assert.equal(second.info.hookFailures.length, 1);
  assert.ok(Object.isFrozen(second.info) && Object.isFrozen(second.info.writerCursors) && Object.isFrozen(second.info.writerCursors['json']));
  assert.deepEqual(view(second), view(evolveAll(initialState(), [cursor('json', 19), { type: 'hook-failed', v: 1, data: { hook: 'H', phase: 'afterStep', iter: 20, message: 'x' } }, cursor('json', 39), cursor('csv', 39), cursor('json', 59)])));
});

test("a write-point event (a request to the log's commit thread) folds to nothing", () => {
  const base = evolveAll(initialState(), [{ type: 'scalar', v: 1, data: { name: 'loss', value: 1, smoothingHint: true, iter: 0 } }]);
  const after = evolveAll(base, [{ type: 'write-point', v: 1, data: { writers: ['json:x'] } }]);
  assert.deepEqual(view(after), view(base));
});

test('step times keep the last historyMaxLength of them however the events are batched, as a plain array does', () => {
  const op = fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }) });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 30 }), fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (initial, ops, every) => {
      const fold = new StateFold(initialState({ maxLength: initial }));
      let maxLength = initial;
      let oracle: number[] = [];
      let iter = 0;
      ops.forEach((o, n) => {
        if (o === null) {
          fold.step(iter, 1000 + iter);
          oracle.push(1000 + iter++);
        } else {
          fold.apply({ type: 'run-started', v: 1, data: { name: 'r', config: null, startIter: iter, historyMaxLength: o, wallTime: 0, host: { hostname: 'h', platform: 'p', node: 'n', pid: 1 } } });
          maxLength = o;
        }
        // Evicted when maxLength shrinks; evicted ones do not come back when it grows.
        oracle = oracle.slice(Math.max(0, oracle.length - maxLength));
        if (n % every === 0) assert.deepStrictEqual(fold.finish().stepTimes.values().map(([w]) => w), oracle);
      });
      const state = fold.finish();
      assert.deepStrictEqual(state.stepTimes.values().map(([w]) => w), oracle);
      assert.equal(state.stepTimes.count, ops.filter((o) => o === null).length);
    }),
    { numRuns: 60 },
  );
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
