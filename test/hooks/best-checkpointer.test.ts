import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvalHook } from '../../src/hooks/eval-hook.js';
import { BestCheckpointer } from '../../src/hooks/best-checkpointer.js';
import { memoryLogger } from '../../src/util/logger.js';
import { tempDir } from '../helpers.js';
import { simpleTrainer } from './hook-harness.js';

test('BestCheckpointer save counts: max [.3,.4,.35,.5] → 3; min [1,.8,.9,.9] → 2; min [NaN,.8,.9,.9] → 1', async () => {
  const cases = [['max', [0.3, 0.4, 0.35, 0.5], 3], ['min', [1.0, 0.8, 0.9, 0.9], 2], ['min', [NaN, 0.8, 0.9, 0.9], 1]] as const;
  for (const [mode, values, saves] of cases) {
    const { trainer, w } = simpleTrainer();
    const it = values[Symbol.iterator]();
    const best = new BestCheckpointer(tempDir(), 10, 'metric', mode, { logger: memoryLogger() });
    trainer.register(new EvalHook(10, () => ({ metric: it.next().value as number })), best);
    await trainer.train(0, 40);
    assert.equal(best.saves, saves, `${mode} ${values.join(',')}`);
    w.dispose();
  }
});

test("BestCheckpointer's best value survives a resume through its state", async () => {
  const { trainer, w } = simpleTrainer();
  const vals = [0.5, 0.9];
  const b1 = new BestCheckpointer(tempDir(), 10, 'acc', 'max', { logger: memoryLogger() });
  trainer.register(new EvalHook(10, () => ({ acc: vals.shift()! })), b1);
  await trainer.train(0, 20);
  const sd = await trainer.stateDict();
  const { trainer: t2 } = simpleTrainer();
  const b2 = new BestCheckpointer(tempDir(), 10, 'acc', 'max', { logger: memoryLogger() });
  t2.register(new EvalHook(10, () => ({ acc: 0.7 })), b2);
  await t2.loadStateDict(sd);
  assert.deepEqual(b2.best, { value: 0.9, iter: 20 });
  await t2.train(20, 30);
  assert.equal(b2.saves, 0, '0.7 is not better than the restored 0.9');
  w.dispose();
});
