import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HookBase } from '../../src/engine/hook-base.js';
import { IterationTimer } from '../../src/hooks/iteration-timer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { memoryLogger } from '../../src/util/logger.js';
import { simpleTrainer } from './hook-harness.js';

test('IterationTimer puts time after warm-up and reports the time spent in hooks', async () => {
  const logger = memoryLogger();
  const { trainer, w } = simpleTrainer();
  const timer = new IterationTimer(3, { logger });
  class Slow extends HookBase {
    override afterStep() { const end = performance.now() + 2; while (performance.now() < end); }
  }
  trainer.register(timer, new Slow()); // hooks after the timer count as hook time
  await trainer.train(0, 10);
  assert.equal(trainer.storage.history('time').length, 8);
  assert.equal(timer.summary!.iterations, 8);
  assert.ok(timer.summary!.hookSeconds > 0.01, `hook seconds ${timer.summary!.hookSeconds}`);
  assert.match(logger.lines.at(-1)!, /Total training time: 0:00:0\d \(0:00:00 on hooks\)/);
  w.dispose();
});

test("IterationTimer's step time covers every beforeStep hook and the step, not the afterStep hooks after it", async () => {
  const { trainer, w } = simpleTrainer();
  const busy = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end); };
  // The timer reads the trainer's end-of-step stamp: a hook registered before it still counts.
  trainer.register(
    new CallbackHook({ beforeStep: () => busy(3) }),
    new IterationTimer(0, { logger: memoryLogger() }),
    new CallbackHook({ afterStep: () => busy(50) }),
  );
  await trainer.train(0, 6);
  const times = trainer.storage.history('time').values().map(([v]) => v);
  assert.equal(times.length, 6);
  // Had the 50 ms afterStep counted, a step would take over 53 ms.
  for (const t of times) assert.ok(t >= 0.003 && t < 0.05, `step time ${t}s: ≥ 3 ms of beforeStep, without the 50 ms afterStep`);
  w.dispose();
});
