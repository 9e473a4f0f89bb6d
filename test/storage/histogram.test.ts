import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeHistogram } from '../../src/storage/histogram.js';

test('finite values fill equal buckets between min and max, the max in the last one', () => {
  assert.deepEqual(computeHistogram([0, 1, 2, 3, 4], 2), { min: 0, max: 4, num: 5, sum: 10, sumSquares: 30, bucketLimits: [2, 4], bucketCounts: [2, 3] });
});

test('±Infinity count in the outer buckets, which span the finite values; NaN counts in none', () => {
  const h = computeHistogram([-Infinity, 0, 1, 2, 3, 4, Infinity, Infinity, NaN], 2);
  assert.equal(h.min, 0);
  assert.equal(h.max, 4);
  assert.equal(h.num, 9);
  assert.ok(Number.isNaN(h.sum));
  assert.deepEqual(h.bucketLimits, [2, 4]);
  assert.deepEqual(h.bucketCounts, [3, 5]);
});

test('+Infinity alone with finite values keeps finite edges and a finite first bucket count', () => {
  const h = computeHistogram([1, 3, Infinity], 2);
  assert.deepEqual([h.min, h.max, h.sum, h.sumSquares], [1, 3, Infinity, Infinity]);
  assert.deepEqual(h.bucketLimits, [2, 3]);
  assert.deepEqual(h.bucketCounts, [1, 2]);
});

test('values with no finite one span [0, 0]: -Infinity first, +Infinity last', () => {
  const h = computeHistogram([-Infinity, Infinity, Infinity, NaN], 3);
  assert.deepEqual([h.min, h.max, h.num], [0, 0, 4]);
  assert.deepEqual(h.bucketLimits, [0, 0, 0]);
  assert.deepEqual(h.bucketCounts, [1, 0, 2]);
});
