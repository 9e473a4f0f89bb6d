import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { MNIST_IMAGE_SIZE, MNIST_TOTAL, loadMnist } from '../../src/data/index.js';
import { InvalidArgumentError } from '../../src/errors/index.js';
import { must } from '../helpers.js';

test('the default split has 8000 training and 2000 test digits with pixels in [0, 1]', () => {
  const { train, test: testSet } = loadMnist();
  assert.equal(train.count, 8000);
  assert.equal(testSet.count, 2000);
  for (const part of [train, testSet]) {
    assert.equal(part.images.length, part.count * MNIST_IMAGE_SIZE);
    assert.equal(part.labels.length, part.count);
    assert.equal(part.indices.length, part.count);
    let min = Infinity;
    let max = -Infinity;
    for (const v of part.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.equal(min, 0);
    assert.ok(max <= 1 && max > 0.99);
    assert.ok(part.labels.every((label) => label >= 0 && label <= 9));
  }
});

test('the same seed gives an identical split and another seed a different one', () => {
  const a = loadMnist({ seed: 11 });
  const b = loadMnist({ seed: 11 });
  const c = loadMnist({ seed: 12 });
  assert.deepEqual(a.train.indices, b.train.indices);
  assert.deepEqual(a.train.images, b.train.images);
  assert.deepEqual(a.test.labels, b.test.labels);
  assert.notDeepEqual(a.train.indices, c.train.indices);
});

test('train and test indices do not overlap', () => {
  const { train, test: testSet } = loadMnist({ seed: 3, trainSize: 7000, testSize: 3000 });
  const trainIndices = new Set(train.indices);
  assert.equal(trainIndices.size, 7000);
  assert.equal(new Set(testSet.indices).size, 3000);
  assert.ok(testSet.indices.every((i) => !trainIndices.has(i)));
  assert.equal(trainIndices.size + testSet.count, MNIST_TOTAL);
});

test('every class is roughly balanced in both parts', () => {
  const { train, test: testSet } = loadMnist({ seed: 5 });
  for (const part of [train, testSet]) {
    const counts = new Array<number>(10).fill(0);
    for (const label of part.labels) counts[label] = must(counts[label], `the count of digit ${label}`) + 1;
    for (const [digit, count] of counts.entries()) {
      const share = count / part.count;
      assert.ok(share > 0.065 && share < 0.14, `digit ${digit} has share ${share}`);
    }
  }
});

test('images and labels are the package digits at the recorded indices', () => {
  const digits = createRequire(import.meta.url)('mnist') as Array<{ raw: number[]; length: number }>;
  const starts: number[] = [];
  let offset = 0;
  for (let d = 0; d < 10; d++) {
    starts.push(offset);
    offset += must(digits[d], `digit ${d}`).length;
  }
  const { train } = loadMnist({ seed: 8, trainSize: 50, testSize: 0 });
  assert.equal(train.indices.length, 50);
  for (const [row, index] of train.indices.entries()) {
    let digit = 9;
    while (must(starts[digit], `the start of digit ${digit}`) > index) digit -= 1;
    assert.equal(train.labels[row], digit);
    const sample = index - must(starts[digit], `the start of digit ${digit}`);
    const raw = must(digits[digit], `digit ${digit}`).raw;
    const expected = Float32Array.from(raw.slice(sample * MNIST_IMAGE_SIZE, (sample + 1) * MNIST_IMAGE_SIZE));
    assert.deepEqual(train.images.subarray(row * MNIST_IMAGE_SIZE, (row + 1) * MNIST_IMAGE_SIZE), expected);
  }
});

test('sizes that are negative, fractional or exceed the 10,000 digits are rejected', () => {
  assert.throws(() => loadMnist({ trainSize: 9000, testSize: 1001 }), /9000 \+ 1001 = 10001; expected at most 10000/);
  assert.throws(() => loadMnist({ trainSize: -1 }), InvalidArgumentError);
  assert.throws(() => loadMnist({ testSize: 1.5 }), /testSize is 1.5/);
  assert.throws(() => loadMnist({ seed: Number.NaN }), /seed is NaN/);
  const empty = loadMnist({ trainSize: 0, testSize: 0 });
  assert.equal(empty.train.count, 0);
});
