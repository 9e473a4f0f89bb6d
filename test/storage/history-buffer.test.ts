import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HistoryBuffer, EmptyHistoryError } from '../../src/storage/history-buffer.js';

function build(values: number[], maxLength?: number): HistoryBuffer {
  let h = HistoryBuffer.empty(maxLength);
  values.forEach((v, i) => (h = h.append(v, i)));
  return h;
}

test('median, avg and latest follow fvcore over the last w values', () => {
  const h = build([5, 1, 4, 2, 3]);
  assert.deepEqual(h.latest(), [3, 4]);
  assert.equal(h.median(5), 3);
  assert.equal(h.median(2), 2.5);
  assert.equal(h.avg(2), 2.5);
  assert.equal(h.avg(100), 3);
  assert.equal(h.median(1), 3);
});

test('a NaN in the window makes the median NaN, as numpy does', () => {
  const h = build([1, NaN, 3]);
  assert.ok(Number.isNaN(h.median(3)));
  assert.equal(h.median(1), 3);
});

test('globalAvg includes values evicted by maxLength', () => {
  const h = build([1, 2, 3, 4, 5, 6], 2);
  assert.equal(h.length, 2);
  assert.equal(h.count, 6);
  assert.deepEqual(h.values(), [
    [5, 4],
    [6, 5],
  ]);
  assert.equal(h.globalAvg, 3.5);
});

test('eviction across many chunks keeps exactly the last maxLength samples', () => {
  const n = 20_000;
  const h = build(Array.from({ length: n }, (_, i) => i), 5000);
  const v = h.values();
  assert.equal(v.length, 5000);
  assert.deepEqual(v[0], [n - 5000, n - 5000]);
  assert.deepEqual(v.at(-1), [n - 1, n - 1]);
});

test('countSince counts trailing samples within the window of iterations', () => {
  let h = HistoryBuffer.empty();
  for (const it of [0, 5, 10, 15, 19]) h = h.append(it, it);
  assert.equal(h.countSince(10), 3); // iters > 9: 10, 15, 19
  assert.equal(h.countSince(20), 5);
});

test('an old version stays unchanged when a newer one and a branch both append', () => {
  const base = build([1, 2, 3]);
  const a = base.append(10, 3).append(11, 4);
  const b = base.append(20, 3);
  assert.deepEqual(base.values().map((x) => x[0]), [1, 2, 3]);
  assert.deepEqual(a.values().map((x) => x[0]), [1, 2, 3, 10, 11]);
  assert.deepEqual(b.values().map((x) => x[0]), [1, 2, 3, 20]);
  assert.deepEqual(a.append(12, 5).values().map((x) => x[0]), [1, 2, 3, 10, 11, 12]);
});

test('appending does not copy the history (samples are shared between versions)', () => {
  // 100k appends finishing quickly is not a timing assertion: it is a budget on copies. With an
  // O(n) copy per append this loop would move 5e9 numbers and not finish in the test's time.
  const h = build(Array.from({ length: 100_000 }, (_, i) => i));
  assert.equal(h.length, 100_000);
});

test('an empty history refuses latest and median with a typed error', () => {
  const h = HistoryBuffer.empty();
  assert.throws(() => h.latest(), EmptyHistoryError);
  assert.throws(() => h.median(3), (e: Error & { code?: string }) => e.code === 'ERR_EMPTY_HISTORY');
});

test('from() rebuilds the same history as appending one by one', () => {
  fc.assert(
    fc.property(fc.array(fc.double(), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (vals, maxLength) => {
      const h = build(vals, maxLength);
      const c = build(vals).columns();
      const g = HistoryBuffer.from(c.values, c.iters, { maxLength });
      assert.deepEqual(g.values(), h.values());
      assert.equal(g.count, h.count);
      assert.ok(Object.is(g.globalAvg, h.globalAvg));
    }),
  );
});
