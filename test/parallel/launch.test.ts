import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from '../../src/parallel/launch.js';
import { localComm } from '../../src/engine/comm.js';
import { contribution } from './rank-fixtures.js';

const fixtures = new URL('./rank-fixtures.ts', import.meta.url).href;
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

/** The oracle: float32 sums in rank order, written out longhand. */
function expectedSum(worldSize: number, length: number): number[] {
  return Array.from({ length }, (_, i) => {
    let acc = 0;
    for (let r = 0; r < worldSize; r++) acc = Math.fround(acc + contribution(r, i));
    return acc;
  });
}

for (const worldSize of [1, 2, 3]) {
  test(`${worldSize} rank(s): allReduce gives every rank the same float32 sum and mean in rank order, through a slot smaller than the data`, { timeout: 60_000 }, async () => {
    const length = 1000; // 4,000 bytes through 256-byte slots: 16 chunks
    const r = (await launch({ module: fixtures, exportName: 'collectives', args: { length } }, { worldSize, slotBytes: 256 })) as {
      everyone: Array<{ sum: number[]; mean: number[]; dict: Record<string, number>; gatheredLength: number }>;
      gathered: unknown[];
    };
    const sum = expectedSum(worldSize, length);
    const mean = sum.map((s) => Math.fround(s / worldSize));
    assert.equal(r.everyone.length, worldSize);
    for (const [rank, got] of r.everyone.entries()) {
      assert.deepEqual(got.sum, sum, `rank ${rank} sum`);
      assert.deepEqual(got.mean, mean, `rank ${rank} mean`);
      // reduceDict: means over ranks, keys sorted; a NaN on one rank makes its key NaN.
      const ranks = Array.from({ length: worldSize }, (_, k) => k);
      const avg = (f: (k: number) => number): number => ranks.reduce((s, k) => s + f(k), 0) / worldSize;
      assert.deepEqual(Object.keys(got.dict), ['a', 'b', 'nan']);
      assert.deepEqual(got.dict, { a: avg((k) => 2 * k + 1), b: avg((k) => k), nan: worldSize > 1 ? NaN : 0 });
      // gather: everything on rank 0, nothing elsewhere.
      assert.equal(got.gatheredLength, rank === 0 ? worldSize : 0);
    }
    assert.deepEqual(r.gathered, Array.from({ length: worldSize }, (_, rank) => ({ rank, inf: -Infinity })));
  });
}

test('synchronize lets no rank past it before the last one arrives', { timeout: 60_000 }, async () => {
  const times = (await launch({ module: fixtures, exportName: 'arrivals' }, { worldSize: 3 })) as Array<{ arrived: number; left: number }>;
  assert.equal(times.length, 3);
  const lastArrival = Math.max(...times.map((t) => t.arrived));
  for (const t of times) assert.ok(t.left >= lastArrival - 1, `left at ${t.left}, before the last arrival at ${lastArrival}`);
});

test('a rank that throws fails launch with RankFailedError naming it and its error, and the ranks waiting for it do not hang', { timeout: 60_000 }, async () => {
  await assert.rejects(launch({ module: fixtures, exportName: 'rankOneThrows' }, { worldSize: 3 }), (e: unknown) => code('ERR_RANK_FAILED')(e) && /^rank 1 failed: boom at step 3$/.test((e as Error).message));
});

test('ranks reducing arrays of different lengths fail with CommMismatchError naming the lengths', { timeout: 60_000 }, async () => {
  await assert.rejects(launch({ module: fixtures, exportName: 'mismatchedLengths' }, { worldSize: 2 }), (e: unknown) => code('ERR_RANK_FAILED')(e) && /allReduce: rank 1 gave 5 values where rank 0 gave 4/.test((e as Error).message));
});

test('a collective the other ranks never join fails with CommTimeoutError after the group timeout', { timeout: 60_000 }, async () => {
  await assert.rejects(launch({ module: fixtures, exportName: 'rankOneLeaves' }, { worldSize: 2, timeoutMs: 300 }), (e: unknown) => code('ERR_RANK_FAILED')(e) && /rank 0: synchronize waited 300 ms for the other ranks \(1 of 2 arrived\)/.test((e as Error).message));
});

test('localComm is the group of one: gather, allGather, reduceDict and allReduce give its own values back', () => {
  assert.deepEqual(localComm.gather(3), [3]);
  assert.deepEqual(localComm.allGather('x'), ['x']);
  assert.deepEqual(localComm.reduceDict({ b: 2, a: 1 }), { a: 1, b: 2 });
  assert.deepEqual(Object.keys(localComm.reduceDict({ b: 2, a: 1 })), ['a', 'b']);
  assert.deepEqual(Array.from(localComm.allReduce(Float32Array.of(1.5, -2), 'mean')), [1.5, -2]);
});

test('launch refuses a world size that is not a positive integer, naming it', async () => {
  await assert.rejects(launch({ module: fixtures, exportName: 'collectives' }, { worldSize: 0 }), (e: unknown) => code('ERR_INVALID_ARGUMENT')(e) && /worldSize must be a positive integer, got 0/.test((e as Error).message));
});
