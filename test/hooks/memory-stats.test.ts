import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStats } from '../../src/hooks/memory-stats.js';
import { simpleTrainer } from './hook-harness.js';

test('MemoryStats puts the tensor count every period', async () => {
  const { trainer, w } = simpleTrainer();
  trainer.register(new MemoryStats(5));
  await trainer.train(0, 20);
  const h = trainer.storage.history('memory/num_tensors').values();
  assert.deepEqual(h.map((v) => v[1]), [4, 9, 14, 19]);
  assert.equal(new Set(h.map((v) => v[0])).size, 1, 'flat: no leak');
  w.dispose();
});
