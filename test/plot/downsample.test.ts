import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { countNonFinite, downsampleM4 } from '../../src/plot/downsample.js';
import type { MetricPoint } from '../../src/plot/index.js';

const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 3, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
);
const risingIters = (n: number) => fc.array(fc.integer({ min: 0, max: 4 }), { minLength: n, maxLength: n }).map((gaps) => gaps.map(((s) => (g: number) => (s += g))(0)));
const input = fc.integer({ min: 0, max: 400 }).chain((n) =>
  fc.record({ iters: fc.oneof(risingIters(n), fc.array(fc.integer({ min: 0, max: 50 }), { minLength: n, maxLength: n })), values: fc.array(value, { minLength: n, maxLength: n }), maxPoints: fc.integer({ min: 4, max: 60 }) }),
);

const same = (a: MetricPoint, b: MetricPoint): boolean => Object.is(a[0], b[0]) && Object.is(a[1], b[1]);

/** Fails unless the output is a subsequence of the input. */
function assertSubsequence(out: readonly MetricPoint[], all: readonly MetricPoint[]): void {
  let j = 0;
  for (const p of out) {
    while (j < all.length && !same(all[j]!, p)) j++;
    assert.ok(j < all.length, `output point ${p} is not one of the following input points`);
    j++;
  }
}

/** The column of each iteration, as M4 cuts [min, max] into `columns` equal parts. */
function columnOf(iters: readonly number[], columns: number): (x: number) => number {
  const x0 = Math.min(...iters);
  const x1 = Math.max(...iters);
  return (x) => (x1 > x0 ? Math.min(columns - 1, Math.floor(((x - x0) / (x1 - x0)) * columns)) : 0);
}

test('downsampleM4 returns a series no longer than maxPoints whole and unchanged', () => {
  fc.assert(
    fc.property(input, ({ iters, values, maxPoints }) => {
      fc.pre(values.length <= maxPoints);
      assert.deepEqual(downsampleM4(iters, values, maxPoints), iters.map((x, i) => [x, values[i]]));
    }),
  );
});

test('downsampleM4 keeps, of every column, its first and last finite sample, one of its lowest and highest values, and one of each NaN, +Inf and -Inf', () => {
  fc.assert(
    fc.property(input, ({ iters, values, maxPoints }) => {
      fc.pre(values.length > maxPoints);
      const all: MetricPoint[] = iters.map((x, i) => [x, values[i]!]);
      const out = downsampleM4(iters, values, maxPoints);
      assertSubsequence(out, all);
      const columns = Math.floor(maxPoints / 4);
      assert.ok(out.length <= 7 * columns);
      const col = columnOf(iters, columns);
      // Brute force, column by column, over the whole input.
      for (let c = 0; c < columns; c++) {
        const here = all.filter(([x]) => col(x) === c);
        const keptHere = out.filter(([x]) => col(x) === c);
        const finite = here.filter(([, v]) => Number.isFinite(v));
        assert.ok(keptHere.filter(([, v]) => Number.isFinite(v)).length <= 4, 'more than 4 finite samples in a column');
        if (finite.length > 0) {
          assert.ok(keptHere.some((p) => same(p, finite[0]!)), 'first sample of a column lost');
          assert.ok(keptHere.some((p) => same(p, finite[finite.length - 1]!)), 'last sample of a column lost');
          const vs = finite.map(([, v]) => v);
          assert.ok(keptHere.some(([, v]) => v === Math.min(...vs)), 'column minimum lost');
          assert.ok(keptHere.some(([, v]) => v === Math.max(...vs)), 'column maximum lost');
        }
        for (const kind of [NaN, Infinity, -Infinity]) {
          const present = here.some(([, v]) => Object.is(v, kind));
          assert.equal(keptHere.filter(([, v]) => Object.is(v, kind)).length, present ? 1 : 0, `${kind} in a column`);
        }
      }
    }),
    { numRuns: 400 },
  );
});

test('downsampleM4 keeps the global minimum and maximum and the first and last sample', () => {
  fc.assert(
    fc.property(input, ({ iters, values, maxPoints }) => {
      const out = downsampleM4(iters, values, maxPoints);
      const finite = values.filter((v) => Number.isFinite(v));
      fc.pre(finite.length > 0);
      assert.ok(out.some(([, v]) => v === Math.min(...finite)));
      assert.ok(out.some(([, v]) => v === Math.max(...finite)));
      // In a history's order (iterations never decrease) the first and last finite samples open and close the first and last columns.
      if (iters.every((x, i) => i === 0 || x >= iters[i - 1]!)) {
        const firstAt = values.findIndex((v) => Number.isFinite(v));
        const lastAt = values.length - 1 - [...values].reverse().findIndex((v) => Number.isFinite(v));
        assert.ok(out.some((p) => same(p, [iters[firstAt]!, values[firstAt]!])));
        assert.ok(out.some((p) => same(p, [iters[lastAt]!, values[lastAt]!])));
      }
    }),
    { numRuns: 300 },
  );
});

test('downsampleM4 cuts a million samples to at most maxPoints and keeps a single-sample spike of 1e6', () => {
  const n = 1_000_000;
  const iters = new Uint32Array(n).map((_, i) => i);
  const values = new Float64Array(n).map((_, i) => 1 / (1 + i * 1e-4) + 0.01 * Math.sin(i));
  values[654_321] = 1e6;
  const out = downsampleM4(iters, values, 1280);
  assert.ok(out.length <= 1280, `${out.length} points`);
  assert.ok(out.some(([x, v]) => x === 654_321 && v === 1e6));
  assert.deepEqual(out[0], [0, values[0]]);
  assert.deepEqual(out[out.length - 1], [n - 1, values[n - 1]]);
});

test('downsampleM4 keeps NaN and infinite values of a million samples, a bounded number of them', () => {
  const n = 1_000_000;
  const iters = new Uint32Array(n).map((_, i) => i);
  // A diverged run: NaN for the last half, one +Inf and one -Inf before.
  const values = new Float64Array(n).map((_, i) => (i >= n / 2 ? NaN : i));
  values[1000] = Infinity;
  values[2000] = -Infinity;
  const out = downsampleM4(iters, values, 1280);
  assert.ok(out.length <= 1280 + 3 * 320, `${out.length} points`);
  assert.ok(out.some(([x, v]) => x === 1000 && v === Infinity));
  assert.ok(out.some(([x, v]) => x === 2000 && v === -Infinity));
  assert.ok(out.some(([x, v]) => x === n / 2 && Number.isNaN(v)));
});

test('downsampleM4 leaves out samples whose iteration is not finite, which have no column', () => {
  // The NaN-iteration sample has the highest value: were it placed, it would be kept as a maximum.
  assert.deepEqual(downsampleM4([0, NaN, 1, 2, 3, 4], [1, 100, 3, 4, 5, 6], 4), [[0, 1], [4, 6]]);
});

test('downsampleM4 refuses a budget too small for one column', () => {
  assert.throws(() => downsampleM4([0], [1], 3), /maxPoints is 3; expected an integer of at least 4/);
});

test('countNonFinite counts NaN, +Infinity and -Infinity apart', () => {
  assert.deepEqual(countNonFinite([1, NaN, Infinity, NaN, -Infinity, 0]), { nan: 2, posInf: 1, negInf: 1 });
});
