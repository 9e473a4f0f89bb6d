import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EvalHook } from '../../src/hooks/eval-hook.js';
import { EarlyStopping } from '../../src/hooks/early-stopping.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { tempDir } from '../helpers.js';
import { simpleTrainer } from './hook-harness.js';

test('EarlyStopping stops cleanly, logs the reason, and its counter survives a resume', async () => {
  const dir = tempDir();
  const { trainer, w } = simpleTrainer({ log: join(dir, 'l.sqlite') });
  const scores = [0.5, 0.6, 0.6, 0.59, 0.58, 0.9];
  const stop = new EarlyStopping('acc', { mode: 'max', patience: 3 });
  trainer.register(new EvalHook(5, () => ({ acc: scores.shift()! })), stop);
  await trainer.train(0, 100);
  assert.equal(trainer.iter, 25);
  const log = LogFile.open(join(dir, 'l.sqlite'), { readonly: true });
  const { state } = replayRun(log, 1);
  assert.equal(state.info.status, 'stopped');
  assert.match(state.info.statusDetail!, /acc did not improve by more than 0 for 3 evaluations \(best 0.6 at iteration 9\)/);
  log.close();
  const again = new EarlyStopping('acc', { mode: 'max', patience: 3 });
  again.loadStateDict(stop.stateDict());
  assert.equal(again.bad, 3);
  assert.deepEqual(again.best, { value: 0.6, iter: 9 });
  w.dispose();
});
