import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HISTORY_BLOCK_SIZE, HistoryBuffer, EmptyHistoryError } from '../../src/storage/history-buffer.js';

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

test('appendAll gives the same history as appending one by one, across chunks, eviction and branches', () => {
  const sample = fc.tuple(fc.oneof(fc.double(), fc.constantFrom(NaN, -0, Infinity)), fc.nat(1000));
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(20), fc.array(sample, { maxLength: 5000 })), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 9000 }),
      (steps, maxLength) => {
        // Every version stays reachable, and each step appends to a random earlier one: branches.
        const one: HistoryBuffer[] = [HistoryBuffer.empty(maxLength)];
        const all: HistoryBuffer[] = [HistoryBuffer.empty(maxLength)];
        for (const [from, samples] of steps) {
          const at = from % one.length;
          let h = one[at]!;
          for (const [v, it] of samples) h = h.append(v, it);
          one.push(h);
          all.push(all[at]!.appendAll(Float64Array.from(samples, (s) => s[0]), Uint32Array.from(samples, (s) => s[1])));
        }
        for (let i = 0; i < one.length; i++) {
          assert.deepEqual(all[i]!.values(), one[i]!.values());
          assert.equal(all[i]!.count, one[i]!.count);
          assert.ok(Object.is(all[i]!.globalAvg, one[i]!.globalAvg));
        }
      },
    ),
    { numRuns: 40 },
  );
});

test('appendAll takes the first n samples and refuses more than it is given', () => {
  const h = HistoryBuffer.empty().appendAll([1, 2, 3], [0, 1, 2], 2);
  assert.deepEqual(h.values(), [
    [1, 0],
    [2, 1],
  ]);
  assert.equal(h.appendAll([], [], 0), h);
  assert.throws(() => h.appendAll([1], [1], 2), RangeError);
});

test('columns(last) copies only the newest samples, across chunk boundaries', () => {
  const h = build(Array.from({ length: 10_000 }, (_, i) => i * 2), 9000);
  const { values, iters } = h.columns(5000);
  assert.equal(values.length, 5000);
  assert.equal(values[0], 5000 * 2);
  assert.equal(iters[4999], 9999);
  assert.equal(h.columns(20_000).values.length, 9000);
  assert.equal(h.columns(0).values.length, 0);
  assert.deepEqual([...h.columns().iters.slice(0, 2)], [1000, 1001]);
});

test('fromParts equals from() of the parts concatenated', () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.double(), { maxLength: 5000 }), { maxLength: 4 }), fc.integer({ min: 1, max: 12_000 }), (parts, maxLength) => {
      let iter = 0;
      const typed = parts.map((p) => ({ values: Float64Array.from(p), iters: Uint32Array.from(p, () => iter++) }));
      const values = Float64Array.from(parts.flat());
      const iters = Uint32Array.from(values, (_, i) => i);
      const a = HistoryBuffer.fromParts(typed, { maxLength });
      const b = HistoryBuffer.from(values, iters, { maxLength });
      assert.deepEqual(a.values(), b.values());
      assert.ok(Object.is(a.globalAvg, b.globalAvg));
      assert.equal(a.count, b.count);
    }),
    { numRuns: 30 },
  );
});

test('fromBlocks adopts whole blocks as storage and matches the appended history, which it can keep appending to', () => {
  const n = 3 * HISTORY_BLOCK_SIZE + 100;
  const appended = build(Array.from({ length: n }, (_, i) => i / 7), 2 * HISTORY_BLOCK_SIZE);
  // Block b holds samples b·SIZE..; the history retains the last 2·SIZE, from inside block 1.
  const blocks = [1, 2, 3].map((b) => {
    const from = b * HISTORY_BLOCK_SIZE;
    const to = Math.min(n, from + HISTORY_BLOCK_SIZE);
    return { lo: 0, values: Float64Array.from({ length: to - from }, (_, i) => (from + i) / 7), iters: Uint32Array.from({ length: to - from }, (_, i) => from + i) };
  });
  const loaded = HistoryBuffer.fromBlocks(1, blocks, { maxLength: 2 * HISTORY_BLOCK_SIZE, count: n, globalAvg: appended.globalAvg });
  assert.deepEqual(loaded.values(), appended.values());
  assert.equal(loaded.length, appended.length);
  const full = blocks[1]!.values;
  full[0] = 42; // adopted, not copied: the history reads the given array
  assert.equal(loaded.values()[HISTORY_BLOCK_SIZE - 100]![0], 42);
  full[0] = (2 * HISTORY_BLOCK_SIZE) / 7;
  const more = loaded.append(1, n).append(2, n + 1);
  assert.deepEqual(more.values().slice(-3), [
    [(n - 1) / 7, n - 1],
    [1, n],
    [2, n + 1],
  ]);
  assert.deepEqual(loaded.values(), appended.values());
});

test('fromBlocks refuses blocks that do not cover the retained samples', () => {
  const block = (lo: number, length: number) => ({ lo, values: new Float64Array(length), iters: new Uint32Array(length) });
  assert.throws(() => HistoryBuffer.fromBlocks(0, [block(0, 10)], { count: 20, globalAvg: 0 }), RangeError);
  assert.throws(() => HistoryBuffer.fromBlocks(0, [block(5, 15)], { count: 20, globalAvg: 0 }), RangeError);
  assert.throws(() => HistoryBuffer.fromBlocks(1, [block(0, 20)], { count: 20, globalAvg: 0 }), RangeError);
  assert.equal(HistoryBuffer.fromBlocks(0, [block(0, 20)], { count: 20, globalAvg: 0 }).length, 20);
  assert.equal(HistoryBuffer.fromBlocks(0, [], { count: 0, globalAvg: 0 }).length, 0);
});
