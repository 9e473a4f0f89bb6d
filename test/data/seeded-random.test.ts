import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Mulberry32, mixSeed, permutation, shuffleInPlace } from '../../src/data/index.js';
import { InvalidArgumentError } from '../../src/errors/index.js';
import { must } from '../helpers.js';

test('Mulberry32 reproduces the published golden vectors of mulberry32', () => {
  const draw = (seed: number, n: number) => {
    const rng = new Mulberry32(seed);
    return Array.from({ length: n }, () => rng.nextUint32());
  };
  assert.deepEqual(draw(0, 5), [1144304738, 1416247, 958946056, 627933444, 2007157716]);
  assert.deepEqual(draw(1, 3), [2693262067, 11749833, 2265367787]);
  assert.equal(new Mulberry32(0).next(), 0.26642920868471265);
});

test('the same seed gives the same stream and nearby seeds give different streams', () => {
  const take = (seed: number) => {
    const rng = new Mulberry32(seed);
    return Array.from({ length: 20 }, () => rng.next());
  };
  assert.deepEqual(take(123), take(123));
  assert.notDeepEqual(take(123), take(124));
  // Seeds wider than 32 bits are hashed, not truncated.
  assert.notDeepEqual(take(2 ** 32 + 5), take(5));
});

test('next stays in [0, 1) and nextInt is uniform within its bound', () => {
  const rng = new Mulberry32(99);
  const counts = new Array<number>(7).fill(0);
  for (let i = 0; i < 70_000; i++) {
    const x = rng.next();
    assert.ok(x >= 0 && x < 1);
    const bucket = rng.nextInt(7);
    counts[bucket] = must(counts[bucket], `bucket ${bucket}`) + 1;
  }
  for (const count of counts) assert.ok(Math.abs(count - 10_000) < 500, `bucket count ${count} is far from 10000`);
  assert.throws(() => rng.nextInt(0), InvalidArgumentError);
  assert.throws(() => rng.nextInt(2.5), InvalidArgumentError);
});

test('mixSeed separates (seed, epoch) pairs and is deterministic', () => {
  const seen = new Set<number>();
  for (let seed = 0; seed < 50; seed++) {
    for (let epoch = 0; epoch < 50; epoch++) seen.add(mixSeed(seed, epoch));
  }
  assert.equal(seen.size, 2500);
  assert.equal(mixSeed(3, 4), mixSeed(3, 4));
  assert.notEqual(mixSeed(3, 4), mixSeed(4, 3));
  assert.throws(() => mixSeed(1.5), /value #0 is 1.5; expected a safe integer/);
});

test('shuffleInPlace and permutation always produce a permutation of their input', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), (n, seed) => {
      const order = permutation(n, new Mulberry32(seed));
      assert.equal(order.length, n);
      assert.deepEqual(Array.from(order).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
      const values = Array.from({ length: n }, (_, i) => i * 3);
      shuffleInPlace(values, new Mulberry32(seed));
      assert.deepEqual([...values].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i * 3));
    }),
  );
});

test('every position is equally likely to receive every element under shuffling', () => {
  const n = 5;
  const trials = 50_000;
  const hits = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const rng = new Mulberry32(2024);
  for (let t = 0; t < trials; t++) {
    const order = shuffleInPlace(Uint32Array.from([0, 1, 2, 3, 4]), rng);
    for (const [position, value] of order.entries()) {
      const row = must(hits[value], `row ${value}`);
      row[position] = must(row[position], `column ${position}`) + 1;
    }
  }
  for (const row of hits) for (const count of row) assert.ok(Math.abs(count - trials / n) < 400, `count ${count} far from ${trials / n}`);
});

test('invalid seeds and sizes are rejected with messages naming the value', () => {
  assert.throws(() => new Mulberry32(Number.NaN), /seed is NaN; expected a safe integer/);
  assert.throws(() => new Mulberry32(0.5), InvalidArgumentError);
  assert.throws(() => permutation(-1, new Mulberry32(1)), /permutation size is -1/);
});
