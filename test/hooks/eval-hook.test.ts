import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvalHook, flattenResults } from '../../src/hooks/eval-hook.js';
import { simpleTrainer } from './hook-harness.js';

test('EvalHook call counts follow detectron2: 30/15 → 2, 31/15 → 3, 20/0 → 1', async () => {
  for (const [maxIter, period, expected] of [[30, 15, 2], [31, 15, 3], [20, 0, 1]] as const) {
    const { trainer, w } = simpleTrainer();
    const hook = new EvalHook(period, () => ({ m: 1 }));
    trainer.register(hook);
    await trainer.train(0, maxIter);
    assert.equal(hook.calls, expected, `${maxIter}/${period}`);
    w.dispose();
  }
});

test('EvalHook flattens nested results, names a non-number key, and is reusable after training', async () => {
  assert.deepEqual(flattenResults({ a: { b: 1, c: { d: 2 } }, e: 3 }), { 'a/b': 1, 'a/c/d': 2, e: 3 });
  assert.throws(() => flattenResults({ a: { b: 'x' } }), /'a\/b: "x"'/);
  const { trainer, w } = simpleTrainer();
  const hook = new EvalHook(5, async () => ({ acc: { top1: 0.5 } }));
  trainer.register(hook);
  await trainer.train(0, 10);
  await trainer.train(10, 20);
  assert.equal(hook.calls, 4);
  assert.deepEqual(trainer.storage.latest()['acc/top1'], [0.5, 20]);
  w.dispose();
});
