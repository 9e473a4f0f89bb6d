import { test } from 'node:test';
import assert from 'node:assert/strict';
import { event, type TrainEvent } from '../../src/events/train-event.js';
import { ReferenceHintError, ReferenceRun, ReferenceStorage, referenceMedian, referenceState } from './reference-storage.js';
import { must } from '../helpers.js';

const host = { hostname: 'h', platform: 'p', node: 'n', pid: 1 };
const started = (startIter: number, historyMaxLength?: number): TrainEvent =>
  event('run-started', { name: 'r', config: null, startIter, historyMaxLength, wallTime: 0, host });
const put = (name: string, value: number, iter: number, smoothingHint = true): TrainEvent => event('scalar', { name, value, smoothingHint, iter });
const step = (iter: number, wallTime = iter): TrainEvent => event('step', { iter, wallTime });

test('a history keeps its newest maxLength samples while count and globalAvg cover every sample put', () => {
  const s = referenceState([put('loss', 1, 0), put('loss', 2, 1), put('loss', 3, 2), put('loss', 4, 3)], { maxLength: 3 });
  const [loss] = s.observe().metrics;
  assert.deepStrictEqual(loss?.samples, [
    [2, 1],
    [3, 2],
    [4, 3],
  ]);
  assert.equal(loss?.count, 4);
  assert.equal(loss?.globalAvg, 2.5);
  assert.equal(loss?.maxLength, 3);
});

test('latest is the sample put last, also when its iteration is earlier than the one before', () => {
  const s = referenceState([put('acc', 5, 10), put('acc', 7, 3)]);
  assert.deepStrictEqual(s.observe().metrics[0]?.latest, [7, 3]);
});

test('median and avg of a window take the last values put, and a NaN inside makes the median NaN', () => {
  const s = referenceState([3, 1, 4, 1, 5].map((v, i) => put('x', v, i)));
  const h = must(s.metrics[0], 'the first metric').history;
  assert.equal(h.median(3), 4); // [4, 1, 5]
  assert.equal(h.median(4), 2.5); // [1, 4, 1, 5] sorted [1, 1, 4, 5]
  assert.equal(h.median(20), 3); // all five
  assert.equal(h.avg(3), 10 / 3);
  assert.equal(h.avg(1), 5);
  const withNaN = must(referenceState([put('y', 1, 0), put('y', NaN, 1), put('y', 2, 2)]).metrics[0], 'metric y').history;
  assert.ok(Number.isNaN(withNaN.median(2)));
  assert.equal(withNaN.median(1), 2);
  assert.ok(Number.isNaN(withNaN.avg(3)));
});

test('the median sorts -0 before 0, as a Float64Array sort does', () => {
  assert.ok(Object.is(referenceMedian([0, -0, -0]), -0));
  assert.ok(Object.is(referenceMedian([0, 0, -0]), 0));
  assert.ok(Object.is(referenceMedian([-0, 0]), 0));
  assert.equal(referenceMedian([Infinity, -Infinity, 1]), 1);
  assert.ok(Number.isNaN(referenceMedian([Infinity, -Infinity])));
});

test('a hinted metric is smoothed over the trailing samples of the last window iterations, an unhinted one is not', () => {
  const iters = [0, 5, 10, 25, 30];
  const values = [4, 2, 8, 1, 6];
  const s = referenceState([...iters.map((it, i) => put('loss', must(values[i], `value ${i}`), it)), ...iters.map((it, i) => put('lr', must(values[i], `value ${i}`), it, false))]);
  // Window 20 after iteration 30: iterations above 10, i.e. 25 and 30 → median of [1, 6].
  assert.deepStrictEqual(s.smoothed('loss', 20), [3.5, 30]);
  assert.deepStrictEqual(s.smoothed('loss', 3), [6, 30]);
  assert.deepStrictEqual(s.smoothed('lr', 20), [6, 30]);
  const [loss] = s.observe().metrics;
  assert.deepStrictEqual(
    loss?.windows.map((w) => [w.window, w.countSince, w.median, w.avg, w.smoothed]),
    [
      [1, 1, 6, 6, [6, 30]],
      [3, 1, 6, 5, [6, 30]], // last 3 values [8, 1, 6]
      [20, 2, 4, 21 / 5, [3.5, 30]], // all values sorted [1, 2, 4, 6, 8]
    ],
  );
});

test('countSince stops at the first trailing sample outside the window, even if earlier ones are inside', () => {
  const s = referenceState([0, 50, 49, 10, 51].map((it, i) => put('m', i, it)));
  assert.equal(must(s.metrics[0], 'the first metric').history.countSince(20), 1); // 51 inside, 10 outside: 50 and 49 are not counted
  assert.equal(must(s.metrics[0], 'the first metric').history.countSince(60), 5);
});

test('a step records its wall time at its iteration and the next iteration is the one after it', () => {
  const s = referenceState([started(5, 2), step(5, 100), step(6, 101), step(7, 102)]);
  assert.equal(s.iter, 8);
  assert.deepStrictEqual(s.observe().steps, {
    maxLength: 2,
    samples: [
      [101, 6],
      [102, 7],
    ],
    count: 3,
    globalAvg: 101,
  });
});

test('a new historyMaxLength trims step times at once and applies to metrics put from then on, not to earlier ones', () => {
  const s = referenceState([started(0, 3), put('early', 1, 0), step(0), step(1), step(2), started(3, 1), put('late', 1, 3), put('early', 2, 3), put('late', 2, 3)]);
  const o = s.observe();
  assert.equal(o.maxLength, 1);
  assert.equal(o.iter, 3);
  assert.deepStrictEqual(o.steps.samples, [[2, 2]]);
  assert.deepStrictEqual(
    o.metrics.map((m) => [m.name, m.maxLength, m.samples]),
    [
      [
        'early',
        3,
        [
          [1, 0],
          [2, 3],
        ],
      ],
      ['late', 1, [[2, 3]]],
    ],
  );
});

test('a scalar put with another smoothing hint than its first throws and changes nothing', () => {
  const s = new ReferenceStorage();
  s.apply(put('lr', 0.1, 0, false));
  const before = s.observe();
  assert.throws(() => s.apply(put('lr', 0.2, 0, true)), ReferenceHintError);
  assert.deepStrictEqual(s.observe(), before);
});

test('a resume drops every event after the step it resumes from and continues after it', () => {
  const run = new ReferenceRun({ maxLength: 100 });
  run.append(started(0, 100));
  for (let i = 0; i < 6; i++) {
    run.append(put('loss', i, i));
    run.append(step(i, 1000 + i));
  }
  run.append(event('checkpoint-saved', { iter: 5, name: 'model_5', path: '/m' }));
  run.resume(event('resumed', { iter: 2, toSeq: 2, wallTime: 9 }));
  assert.equal(run.state.iter, 3);
  run.append(put('loss', 30, 3));
  run.append(step(3, 2003));
  const o = run.state.observe();
  assert.deepStrictEqual(o.metrics[0]?.samples, [
    [0, 0],
    [1, 1],
    [2, 2],
    [30, 3],
  ]);
  assert.equal(o.metrics[0]?.count, 4);
  assert.deepStrictEqual(o.steps.samples, [
    [1000, 0],
    [1001, 1],
    [1002, 2],
    [2003, 3],
  ]);
  assert.equal(o.iter, 4);
  assert.deepStrictEqual(o.info, {
    run: { name: 'r', config: null, startIter: 0, historyMaxLength: 100, wallTime: 0, host },
    status: 'running',
    statusDetail: null,
    endIter: null,
    checkpoints: [],
    writerCursors: {},
    hookFailures: [],
    histograms: [],
    images: [],
    resumes: [{ iter: 2, toSeq: 2, wallTime: 9 }],
  });
  assert.equal(run.rewinds, 1);
  assert.deepStrictEqual(run.stateAfterStep(1).observe().metrics[0]?.samples, [
    [0, 0],
    [1, 1],
  ]);
  assert.throws(() => run.resume(event('resumed', { iter: 5, toSeq: 9, wallTime: 9 })), /no step 5/);
});

test('a run that ends records its status, detail and end iteration, and its iteration is the end', () => {
  const ends: Array<[TrainEvent, string, string | null]> = [
    [event('run-completed', { iter: 7, wallTime: 1 }), 'completed', null],
    [event('run-failed', { iter: 7, wallTime: 1, message: 'boom' }), 'failed', 'boom'],
    [event('run-stopped', { iter: 7, wallTime: 1, reason: 'early stop' }), 'stopped', 'early stop'],
  ];
  for (const [e, status, detail] of ends) {
    const s = referenceState([started(0), step(0), e]);
    assert.deepStrictEqual([s.iter, s.info.status, s.info.statusDetail, s.info.endIter], [7, status, detail, 7]);
  }
});

test('writer cursors keep the last per writer, rare events are listed in order and a write point changes nothing', () => {
  const s = referenceState([
    event('writer-cursor', { writer: 'json', iter: 19 }),
    event('writer-cursor', { writer: 'csv', iter: 19 }),
    event('writer-cursor', { writer: 'json', iter: 39 }),
    event('hook-failed', { hook: 'H', phase: 'afterStep', iter: 3, message: 'm' }),
    event('write-point', { writers: ['json'] }),
    event('histogram', { name: 'w', iter: 3, min: 0, max: 1, num: 2, sum: 1, sumSquares: 1, bucketLimits: [1], bucketCounts: [2] }),
  ]);
  assert.deepStrictEqual(s.info.writerCursors, { json: { writer: 'json', iter: 39 }, csv: { writer: 'csv', iter: 19 } });
  assert.deepStrictEqual(s.info.hookFailures, [{ hook: 'H', phase: 'afterStep', iter: 3, message: 'm' }]);
  assert.equal(s.info.histograms.length, 1);
  assert.equal(s.iter, 0);
  assert.deepStrictEqual(s.metrics, []);
});
