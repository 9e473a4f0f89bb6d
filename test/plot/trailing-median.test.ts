import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { trailingMedian } from '../../src/plot/trailing-median.js';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import { medianOracle as oracle } from './median-oracle.js';

// -0 and 0 are the same median; Object.is (deepEqual) would tell them apart.
const plain = (xs: ArrayLike<number>): number[] => Array.from(xs, (x) => (x === 0 ? 0 : x));

const value = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true }) },
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0) },
);
const window = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.double({ min: 0.01, max: 12, noNaN: true }));
/** Iterations as a history holds them: never decreasing, several samples at one iteration, gaps. */
const risingIters = (n: number) => fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }).map((gaps) => gaps.map(((s) => (g: number) => (s += g))(0)));
const series = (iters: (n: number) => fc.Arbitrary<number[]>) =>
  fc.integer({ min: 0, max: 120 }).chain((n) => fc.tuple(iters(n), fc.array(value, { minLength: n, maxLength: n })));

test('trailingMedian equals the median of each trailing window of iterations, sorted point by point', () => {
  fc.assert(
    fc.property(series(risingIters), window, ([iters, values], w) => {
      assert.deepEqual(plain(trailingMedian(Uint32Array.from(iters), Float64Array.from(values), w)), plain(oracle(iters, values, w)));
    }),
    { numRuns: 500 },
  );
});

test('trailingMedian equals the same definition when iterations go backwards somewhere', () => {
  const anyIters = (n: number) => fc.array(fc.integer({ min: 0, max: 30 }), { minLength: n, maxLength: n });
  fc.assert(
    fc.property(series(anyIters), window, ([iters, values], w) => {
      assert.deepEqual(plain(trailingMedian(iters, values, w)), plain(oracle(iters, values, w)));
    }),
    { numRuns: 300 },
  );
});

test('trailingMedian equals the definition when a window of thousands of samples at one iteration drains to a few', () => {
  const iters = Array.from({ length: 3200 }, (_, i) => (i < 3000 ? 0 : i - 2999));
  const values = iters.map((_, i) => ((i * 7919) % 101) + 0.5);
  assert.deepEqual(plain(trailingMedian(iters, values, 3)), plain(oracle(iters, values, 3)));
});

test('trailingMedian is NaN exactly while a NaN is inside the window, as HistoryBuffer.median', () => {
  const iters = [0, 1, 2, 3, 4, 5];
  assert.deepEqual(Array.from(trailingMedian(iters, [1, NaN, 3, 5, 7, 9], 2)), [1, NaN, NaN, 4, 6, 8]);
});

test('trailingMedian refuses a window that holds no iteration', () => {
  assert.throws(() => trailingMedian([0], [1], 0), InvalidArgumentError);
  assert.throws(() => trailingMedian([0], [1], NaN), /window is NaN; expected a positive number of iterations/);
});
