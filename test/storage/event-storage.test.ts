import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStorage } from '../../src/storage/event-storage.js';
import { SmoothingHintMismatchError, UnknownMetricError } from '../../src/storage/errors.js';
import { historyOf } from '../../src/storage/state-queries.js';
import { evolveAll } from '../../src/storage/evolve.js';
import { initialState } from '../../src/storage/storage-state.js';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import type { EventSink } from '../../src/storage/event-sink.js';
import { event, type TrainEvent } from '../../src/events/train-event.js';

test('putScalar records the value at the current iteration and step advances iter', () => {
  const s = new EventStorage({ startIter: 3 });
  s.putScalar('loss', 0.5);
  assert.deepEqual(s.latest(), { loss: [0.5, 3] });
  s.step();
  assert.equal(s.iter, 4);
  s.putScalars({ a: 1, b: 2 }, false);
  assert.deepEqual(s.latest(), { loss: [0.5, 3], a: [1, 4], b: [2, 4] });
});

test('a metric keeps its first smoothing hint and a changed hint is a typed error that logs nothing', () => {
  const seen: string[] = [];
  const sink: EventSink = { scalar: (n) => seen.push(n), step: () => {}, event: () => {} };
  const s = new EventStorage({ sink });
  s.putScalar('lr', 0.1, false);
  assert.throws(() => s.putScalar('lr', 0.2, true), SmoothingHintMismatchError);
  assert.deepEqual(seen, ['lr']);
  assert.deepEqual(s.history('lr').values(), [[0.1, 0]]);
});

test('a storage built from a state refuses a changed hint for the metrics of that state', () => {
  const first = new EventStorage();
  first.putScalar('lr', 0.1, false);
  const s = new EventStorage({ state: first.state });
  assert.throws(() => s.putScalar('lr', 0.2, true), SmoothingHintMismatchError);
  s.putScalar('lr', 0.3, false);
  assert.deepEqual(s.smoothingHints(), { lr: false });
});

test('latestWithSmoothingHint gives the median over the window for hinted metrics only', () => {
  const s = new EventStorage();
  for (let k = 0; k < 30; k++) {
    s.putScalar('smooth', k);
    s.putScalar('raw', k, false);
    s.step();
  }
  const r = s.latestWithSmoothingHint(10);
  assert.deepEqual(r.smooth, [24.5, 29]);
  assert.deepEqual(r.raw, [29, 29]);
});

test('history of an unknown metric names it and lists the known ones', () => {
  const s = new EventStorage();
  s.putScalar('loss', 1);
  assert.throws(() => s.history('los'), (e: unknown) => e instanceof UnknownMetricError && /"los".*"loss"/.test(e.message));
});

test('nameScope prefixes names and restores the prefix even when the body throws', () => {
  const s = new EventStorage();
  s.nameScope('eval/', () => s.putScalar('acc', 0.9));
  assert.throws(() => s.nameScope('bad', () => { throw new Error('boom'); }), /boom/);
  s.putScalar('loss', 1);
  assert.deepEqual(Object.keys(s.latest()).sort(), ['eval/acc', 'loss']);
});

test('nameScope restores the prefix after an async body settles', async () => {
  const s = new EventStorage();
  await s.nameScope('val', async () => {
    await new Promise((r) => setTimeout(r, 1));
    s.putScalar('acc', 1);
  });
  s.putScalar('x', 1);
  assert.deepEqual(Object.keys(s.latest()).sort(), ['val/acc', 'x']);
});

test('bad values and iterations get typed errors naming them', () => {
  const s = new EventStorage();
  assert.throws(() => s.putScalar('loss', '1' as unknown as number), (e: unknown) => e instanceof InvalidArgumentError && /"loss".*string/.test(e.message));
  assert.throws(() => s.putScalar('loss', 1, true, -1), /curIter must be an integer iteration.*-1/);
  assert.throws(() => s.putScalar('', 1), InvalidArgumentError);
  assert.throws(() => new EventStorage({ maxLength: 0 }), /maxLength/);
});

test('NaN and infinities are stored as values', () => {
  const s = new EventStorage();
  s.putScalar('a', NaN);
  s.putScalar('b', -Infinity);
  const l = s.latest();
  assert.ok(Number.isNaN(l.a![0]));
  assert.equal(l.b![0], -Infinity);
});

test('putHistogram records detectron2 summary fields', () => {
  const s = new EventStorage();
  s.putHistogram('w', [0, 1, 2, 3, 4], 2);
  const h = s.state.info.histograms[0]!;
  assert.equal(h.num, 5);
  assert.equal(h.min, 0);
  assert.equal(h.max, 4);
  assert.equal(h.sum, 10);
  assert.equal(h.sumSquares, 30);
  assert.deepEqual(h.bucketLimits, [2, 4]);
  assert.deepEqual(h.bucketCounts, [2, 3]);
});

test('putImage checks the shape and stores the pixels', () => {
  const s = new EventStorage();
  s.putImage('img', { height: 1, width: 2, channels: 1, data: new Uint8Array([0, 255]) });
  assert.equal(Buffer.from(s.state.info.images[0]!.pixels, 'base64').toString('hex'), '00ff');
  assert.throws(() => s.putImage('img', { height: 2, width: 2, channels: 1, data: new Uint8Array(3) }), /2×2×1.*got 3/);
});

test('every event reaches the sink and onEvent in order', () => {
  const got: TrainEvent[] = [];
  const sunk: string[] = [];
  const sink: EventSink = {
    scalar: (n, h, it, v) => sunk.push(`s:${n}:${it}:${v}`),
    step: (it) => sunk.push(`step:${it}`),
    event: (e) => sunk.push(e.type),
  };
  const s = new EventStorage({ sink, onEvent: (e) => got.push(e) });
  s.putScalar('a', 1);
  s.step(100);
  s.append(event('writer-cursor', { writer: 'w', iter: 0 }));
  assert.deepEqual(sunk, ['s:a:0:1', 'step:0', 'writer-cursor']);
  assert.deepEqual(got.map((e) => e.type), ['scalar', 'step', 'writer-cursor']);
});

test('states are immutable snapshots: an old state does not see later puts', () => {
  const s = new EventStorage();
  s.putScalar('a', 1);
  s.step();
  const before = s.state;
  s.putScalar('a', 2);
  s.step();
  assert.deepEqual(before.metrics.histories[0]!.values(), [[1, 0]]);
  assert.equal(before.iter, 1);
  assert.equal(s.state.iter, 2);
});

test('the state read after any number of puts is exactly evolveAll of the events appended', () => {
  const events: TrainEvent[] = [];
  const s = new EventStorage({ maxLength: 3000, onEvent: (e) => events.push(e) });
  let reads = 0;
  for (let k = 0; k < 10_000; k++) {
    s.putScalar('loss', 1 / (k + 1));
    if (k % 3 === 0) s.putScalar('lr', k, false);
    if (k % 1000 === 0) s.append(event('checkpoint-saved', { iter: s.iter, name: `m${k}`, path: '/x' }));
    s.step(k);
    // The iteration moves on without a state being produced.
    assert.equal(s.iter, k + 1);
    if (k % 2500 === 0) {
      assert.deepEqual(s.state.metrics.histories[0]!.latest(), [1 / (k + 1), k]);
      reads++;
    }
  }
  const expected = evolveAll(initialState({ maxLength: 3000 }), events);
  assert.ok(reads > 0);
  assert.equal(s.state.iter, expected.iter);
  assert.deepEqual(s.history('loss').values(), historyOf(expected, 'loss').values());
  assert.deepEqual(s.history('lr').values(), historyOf(expected, 'lr').values());
  assert.deepEqual(s.state.stepTimes.values(), expected.stepTimes.values());
  assert.deepEqual(s.state.info, expected.info);
});

test('the step-time history keeps at most maxLength samples', () => {
  const s = new EventStorage({ maxLength: 5 });
  for (let i = 0; i < 3 * 4096 + 3; i++) s.step(1000 + i);
  const steps = s.state.stepTimes;
  assert.equal(steps.count, 3 * 4096 + 3);
  assert.deepEqual(
    steps.values().map(([w]) => w),
    [0, 1, 2, 3, 4].map((k) => 1000 + 3 * 4096 - 2 + k),
  );
  // Storage for a few maxLength samples (12 bytes each), not for every step of the run.
  assert.ok(steps.byteLength <= 12 * 3 * 8, `byteLength ${steps.byteLength}`);
});

test('maxLength follows a pending run-started event', () => {
  const s = new EventStorage({ maxLength: 10 });
  s.append(event('run-started', { name: 'r', config: null, startIter: 5, historyMaxLength: 3, wallTime: 0, host: { hostname: 'h', platform: 'p', node: 'n', pid: 1 } }));
  assert.equal(s.maxLength, 3);
  assert.equal(s.iter, 5);
});

test('puts and steps reach onEvent only while listening() says someone listens', () => {
  let on = false;
  const got: string[] = [];
  const s = new EventStorage({ onEvent: (e) => got.push(e.type), listening: () => on });
  s.putScalar('a', 1);
  s.step();
  on = true;
  s.putScalar('a', 2);
  s.step();
  s.append(event('writer-cursor', { writer: 'w', iter: 1 }));
  on = false;
  s.append(event('writer-cursor', { writer: 'w', iter: 1 }));
  // Rare events always go out; the state folds everything either way.
  assert.deepEqual(got, ['scalar', 'step', 'writer-cursor', 'writer-cursor']);
  assert.deepEqual(s.history('a').values(), [[1, 0], [2, 1]]);
});

test('a wide run produces its states rarely enough that copying the metric table costs O(1) a put', () => {
  // Elements copied by Array.prototype.slice: producing a state copies the metric table's arrays.
  const slice = Array.prototype.slice;
  let copied = 0;
  Array.prototype.slice = function (this: unknown[], ...args: [number?, number?]) {
    const out = slice.apply(this, args);
    copied += out.length;
    return out;
  } as typeof slice;
  const names = Array.from({ length: 50_000 }, (_, i) => `m${i}`);
  const s = new EventStorage();
  try {
    for (let step = 0; step < 3; step++) {
      for (const name of names) s.putScalar(name, step);
      s.step(step);
    }
  } finally {
    Array.prototype.slice = slice;
  }
  assert.equal(s.state.metrics.names.length, 50_000);
  assert.deepEqual(s.history('m49999').values(), [[0, 0], [1, 1], [2, 2]]);
  const puts = 3 * names.length;
  assert.ok(copied <= 4 * puts, `${copied} elements copied for ${puts} puts`);
});
