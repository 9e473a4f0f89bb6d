import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, toArray } from 'rxjs';
import { every, once, before, after, between, ofType } from '../../src/operators/index.js';
import type { LifecycleEvent } from '../../src/engine/lifecycle-event.js';

const steps = (n: number): LifecycleEvent[] => Array.from({ length: n }, (_, i) => ({ type: 'step-completed', iter: i }) as const);
const iters = async (ev: LifecycleEvent[], op: (s: ReturnType<typeof from<LifecycleEvent[]>>) => ReturnType<typeof from<LifecycleEvent[]>>) =>
  (await lastValueFrom(op(from(ev)).pipe(toArray()))).map((e) => e.iter);

test('every(n) keeps iterations where (iter + 1) % n === 0', async () => {
  assert.deepEqual(await iters(steps(10), (s) => s.pipe(every(4))), [3, 7]);
  assert.throws(() => every(0), /positive integer/);
});

test('once, before, after and between select iterations', async () => {
  assert.deepEqual(await iters(steps(5), (s) => s.pipe(once(2))), [2]);
  assert.deepEqual(await iters(steps(5), (s) => s.pipe(before(2))), [0, 1]);
  assert.deepEqual(await iters(steps(5), (s) => s.pipe(after(2))), [3, 4]);
  assert.deepEqual(await iters(steps(6), (s) => s.pipe(between(1, 3))), [1, 2, 3]);
  assert.throws(() => between(3, 1), /first <= last/);
});

test('ofType narrows to the given lifecycle event types', async () => {
  const ev: LifecycleEvent[] = [
    { type: 'step-started', iter: 0 },
    { type: 'metric-recorded', iter: 0, name: 'loss', value: 1 },
    { type: 'step-completed', iter: 0 },
  ];
  const out = await lastValueFrom(from(ev).pipe(ofType('metric-recorded', 'step-completed'), toArray()));
  assert.deepEqual(out.map((e) => e.type), ['metric-recorded', 'step-completed']);
});
