import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetricIndex } from '../../src/storage/metric-index.js';
import { StateFold } from '../../src/storage/state-fold.js';
import { initialState } from '../../src/storage/storage-state.js';

test('every version of an index, branches included, maps exactly its own names, as a plain Map of them does', () => {
  // Each step adds 0..5 names (drawn from a small pool, so branches reuse names) to a random earlier version.
  const step = fc.tuple(fc.nat(50), fc.array(fc.nat(15), { maxLength: 5 }));
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const versions: Array<{ index: MetricIndex; names: string[] }> = [{ index: MetricIndex.of([]), names: [] }];
      for (const [from, picks] of steps) {
        const v = versions[from % versions.length]!;
        const names = v.names.slice();
        for (const p of picks) if (!names.includes(`m${p}`)) names.push(`m${p}`);
        versions.push({ index: v.index.with(names, v.names.length), names });
      }
      for (const { index, names } of versions) {
        const oracle = new Map(names.map((n, i) => [n, i]));
        assert.equal(index.size, oracle.size);
        for (let p = 0; p < 16; p++) {
          assert.equal(index.get(`m${p}`), oracle.get(`m${p}`));
          assert.equal(index.has(`m${p}`), oracle.has(`m${p}`));
        }
        assert.deepEqual([...index], [...oracle]);
        assert.deepEqual([...index.keys()], names);
      }
    }),
    { numRuns: 200 },
  );
});

test('with() refuses to add anywhere but at the end of the index', () => {
  assert.throws(() => MetricIndex.of(['a', 'b']).with(['a', 'b', 'c'], 1), RangeError);
});

/** Calls of Map.prototype.set (each entry inserted into any Map, copies included) while `fn` runs. */
function mapInsertions(fn: () => void): number {
  const set = Map.prototype.set;
  let n = 0;
  Map.prototype.set = function (this: Map<unknown, unknown>, k: unknown, v: unknown) {
    n++;
    return set.call(this, k, v);
  };
  try {
    fn();
  } finally {
    Map.prototype.set = set;
  }
  return n;
}

test('a fold adding 10,000 names over 100 states inserts each name a bounded number of times, not once per state', () => {
  const fold = new StateFold(initialState());
  const inserted = mapInsertions(() => {
    for (let b = 0; b < 100; b++) {
      for (let i = 0; i < 100; i++) fold.scalar(`m${b * 100 + i}`, i, true, 0);
      fold.finish();
    }
  });
  const state = fold.finish();
  assert.equal(state.metrics.names.length, 10_000);
  assert.equal(state.metrics.index.get('m9999'), 9999);
  assert.ok(inserted <= 3 * 10_000, `${inserted} map insertions`);
});

test('adding names to the newest index costs the names added; to an older one, one copy', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `m${i}`);
  const base = MetricIndex.of(names);
  const more = [...names, 'x', 'y'];
  assert.equal(mapInsertions(() => base.with(more, 1000)), 2);
  assert.equal(mapInsertions(() => base.with([...names, 'z'], 1000)), 1001, 'a branch copies once');
});
