import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HISTORY_BLOCK_SIZE, HistoryBuffer } from '../../src/storage/history-buffer.js';
import { EmptyHistoryError } from '../../src/storage/errors.js';

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

/** Bytes of sample storage (f64 value + u32 iteration). */
const SAMPLE_BYTES = 12;

test('a metric with two samples allocates at most 256 bytes of sample storage', () => {
  const h = HistoryBuffer.empty().append(0.5, 0).append(0.25, 1);
  assert.ok(h.byteLength > 0 && h.byteLength <= 256, `byteLength ${h.byteLength}`);
});

test('a long history costs about 12 bytes a sample: only its last chunk has room to spare', () => {
  let h = HistoryBuffer.empty();
  for (let i = 0; i < 3 * HISTORY_BLOCK_SIZE + 1; i++) h = h.append(i, i);
  assert.ok(h.byteLength <= SAMPLE_BYTES * (4 * HISTORY_BLOCK_SIZE), `byteLength ${h.byteLength}`);
  const bulk = HistoryBuffer.empty().appendAll(new Float64Array(100_000), new Uint32Array(100_000));
  assert.ok(bulk.byteLength <= SAMPLE_BYTES * (100_000 + HISTORY_BLOCK_SIZE), `byteLength ${bulk.byteLength}`);
});

test('a history holds storage for about maxLength samples however many it was given', () => {
  let h = HistoryBuffer.empty(10);
  for (let i = 0; i < 3 * HISTORY_BLOCK_SIZE + 7; i++) h = h.append(i, i);
  assert.ok(h.byteLength <= SAMPLE_BYTES * 3 * 10, `byteLength ${h.byteLength}`);
  const bulk = HistoryBuffer.empty(10).appendAll(new Float64Array(100_000), new Uint32Array(100_000));
  assert.equal(bulk.length, 10);
  assert.ok(bulk.byteLength <= SAMPLE_BYTES * 3 * 10, `byteLength ${bulk.byteLength}`);
  const loaded = HistoryBuffer.from(new Float64Array(2), new Uint32Array(2));
  assert.ok(loaded.byteLength <= 256, `from(): byteLength ${loaded.byteLength}`);
});

/** The obviously-correct history: a plain array of every retained sample. */
class Oracle {
  samples: Array<readonly [number, number]> = [];
  count = 0;
  globalAvg = 0;
  constructor(readonly maxLength: number) {}
  copy(): Oracle {
    const o = new Oracle(this.maxLength);
    o.samples = this.samples.slice();
    o.count = this.count;
    o.globalAvg = this.globalAvg;
    return o;
  }
  append(v: number, it: number): void {
    this.samples.push([v, it]);
    if (this.samples.length > this.maxLength) this.samples.shift();
    this.count++;
    this.globalAvg += (v - this.globalAvg) / this.count;
  }
  window(w: number): number[] {
    return this.samples.slice(Math.max(0, this.samples.length - w)).map((s) => s[0]);
  }
  median(w: number): number {
    const v = this.window(w);
    if (v.some(Number.isNaN)) return NaN;
    v.sort((a, b) => a - b);
    const mid = v.length >> 1;
    return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  }
  avg(w: number): number {
    const v = this.window(w);
    return v.reduce((s, x) => s + x, 0) / v.length;
  }
}

test('a history reads like a plain array of its last maxLength samples, across chunk growth, blocks, eviction and branches', () => {
  const value = fc.oneof({ weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(NaN, -0, 0, Infinity) });
  // Runs of appends: one by one or as one appendAll, to a random earlier version (a branch).
  const run = fc.record({ from: fc.nat(30), n: fc.oneof(fc.nat(20), fc.integer({ min: 0, max: 2 * HISTORY_BLOCK_SIZE + 50 })), bulk: fc.boolean(), seed: value });
  fc.assert(
    fc.property(fc.array(run, { minLength: 1, maxLength: 8 }), fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 * HISTORY_BLOCK_SIZE }), fc.constant(1_000_000)), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 3 }), (runs, maxLength, windows) => {
      const versions: Array<[HistoryBuffer, Oracle]> = [[HistoryBuffer.empty(maxLength), new Oracle(maxLength)]];
      let iter = 0;
      for (const r of runs) {
        const [h0, o0] = versions[r.from % versions.length]!;
        const o = o0.copy();
        const values = Float64Array.from({ length: r.n }, (_, i) => (i % 97 === 3 ? r.seed : Math.sin(iter + i) * 100));
        const iters = Uint32Array.from({ length: r.n }, (_, i) => iter + i);
        iter += r.n;
        let h = h0;
        if (r.bulk) h = h.appendAll(values, iters);
        else for (let i = 0; i < r.n; i++) h = h.append(values[i]!, iters[i]!);
        for (let i = 0; i < r.n; i++) o.append(values[i]!, iters[i]!);
        versions.push([h, o]);
      }
      // Every version, old ones included: later appends and branches must not have changed them.
      for (const [h, o] of versions) {
        assert.deepStrictEqual(h.values(), o.samples);
        assert.equal(h.length, o.samples.length);
        assert.equal(h.count, o.count);
        assert.ok(Object.is(h.globalAvg, o.globalAvg), `globalAvg ${h.globalAvg} vs ${o.globalAvg}`);
        assert.ok(h.byteLength <= SAMPLE_BYTES * 3 * Math.max(8, h.length), `byteLength ${h.byteLength} for ${h.length} samples`);
        if (o.samples.length === 0) {
          assert.throws(() => h.latest(), EmptyHistoryError);
          continue;
        }
        assert.deepStrictEqual(h.latest(), o.samples.at(-1));
        assert.equal(h.latestIter, o.samples.at(-1)![1]);
        for (const w of windows) {
          // Typed-array sort puts -0 before 0, where the oracle's comparator keeps input order: either zero is the median.
          const m = h.median(w);
          assert.ok(Object.is(m, o.median(w)) || m === o.median(w), `median(${w}): ${m} vs ${o.median(w)}`);
          assert.ok(Object.is(h.avg(w), o.avg(w)), `avg(${w})`);
          assert.deepStrictEqual([...h.tail(w)], o.window(w));
          const c = h.columns(w);
          assert.deepStrictEqual([...c.iters], o.samples.slice(Math.max(0, o.samples.length - w)).map((s) => s[1]));
        }
      }
    }),
    { numRuns: 60 },
  );
});

test('fromBlocks of any retained window, split into blocks as a snapshot stores them, reads and appends like the appended history', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 * HISTORY_BLOCK_SIZE }), fc.integer({ min: 1, max: 2 * HISTORY_BLOCK_SIZE }), fc.nat(HISTORY_BLOCK_SIZE + 20), (count, maxLength, more) => {
      const all = Array.from({ length: count + more }, (_, i) => i / 3);
      const appended = HistoryBuffer.empty(maxLength).appendAll(all.slice(0, count), all.slice(0, count).map((_, i) => i));
      // Blocks from the first retained sample on, the first one starting mid-block (lo > 0).
      const retained = count - appended.length;
      const blocks: Array<{ lo: number; values: Float64Array; iters: Uint32Array }> = [];
      const first = Math.floor(retained / HISTORY_BLOCK_SIZE);
      for (let at = retained; at < count; ) {
        const b = Math.floor(at / HISTORY_BLOCK_SIZE);
        const to = Math.min((b + 1) * HISTORY_BLOCK_SIZE, count);
        blocks.push({ lo: at - b * HISTORY_BLOCK_SIZE, values: Float64Array.from(all.slice(at, to)), iters: Uint32Array.from({ length: to - at }, (_, i) => at + i) });
        at = to;
      }
      const loaded = HistoryBuffer.fromBlocks(first, blocks, { maxLength, count, globalAvg: appended.globalAvg });
      assert.deepStrictEqual(loaded.values(), appended.values());
      const extra = all.slice(count);
      const iters = extra.map((_, i) => count + i);
      let one = loaded;
      for (let i = 0; i < extra.length; i++) one = one.append(extra[i]!, iters[i]!);
      assert.deepStrictEqual(one.values(), appended.appendAll(extra, iters).values());
      assert.deepStrictEqual(loaded.appendAll(extra, iters).values(), one.values());
      assert.ok(one.byteLength <= SAMPLE_BYTES * 3 * Math.max(8, one.length), `byteLength ${one.byteLength} for ${one.length} samples`);
    }),
    { numRuns: 40 },
  );
});

test('columnsInto copies the newest n samples into the start of the given arrays, as columns(n) returns them, and refuses arrays too short', () => {
  let h = HistoryBuffer.empty(50);
  for (let i = 0; i < 300; i++) h = h.append(i * 0.5, i * 3);
  for (const n of [0, 1, 20, 50]) {
    const values = new Float64Array(64).fill(-1);
    const iters = new Uint32Array(64).fill(7);
    h.columnsInto(n, values, iters);
    const want = h.columns(n);
    assert.deepEqual(Array.from(values.subarray(0, n)), Array.from(want.values));
    assert.deepEqual(Array.from(iters.subarray(0, n)), Array.from(want.iters));
    assert.deepEqual(Array.from(values.subarray(n)), new Array(64 - n).fill(-1));
  }
  assert.throws(() => h.columnsInto(51, new Float64Array(64), new Uint32Array(64)), /51 samples asked of a history of 50/);
  assert.throws(() => h.columnsInto(20, new Float64Array(10), new Uint32Array(64)), RangeError);
});
