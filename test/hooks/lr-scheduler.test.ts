import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../tf-setup.js';
import { LRScheduler, setLearningRate } from '../../src/hooks/lr-scheduler.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { multiStepLR, linearWarmup, constantLR, cosineLR, stepLR } from '../../src/schedules/lr-schedule.js';
import { enableWasmTraining } from '../../src/backends/wasm/index.js';
import { simpleTrainer } from './hook-harness.js';

test('LRScheduler sets the rate before each step and puts the rate the step used', async () => {
  const { trainer, w } = simpleTrainer();
  const opt = trainer.optimizer as tf.SGDOptimizer;
  const seen: number[] = [];
  trainer.register(new LRScheduler(multiStepLR(0.1, [3, 6])), new CallbackHook({ afterStep: () => { seen.push((opt as unknown as { learningRate: number }).learningRate); } }));
  await trainer.train(0, 8);
  const lr = trainer.storage.history('lr').values().map((v) => Number(v[0].toPrecision(6)));
  assert.deepEqual(lr, [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001]);
  assert.deepEqual(seen.map((v) => Number(v.toPrecision(6))), lr);
  assert.equal(trainer.storage.smoothingHints().lr, false);
  w.dispose();
});

test('schedules: step, multi-step, cosine and warm-up compose as documented', () => {
  assert.equal(constantLR(0.3)(1e6), 0.3);
  assert.ok(Math.abs(stepLR(0.1, 10, 0.5)(25) - 0.025) < 1e-12);
  assert.ok(Math.abs(cosineLR(0.1, 100)(50) - 0.05) < 1e-12);
  assert.equal(cosineLR(0.1, 100, 0.01)(100), 0.01);
  const warm = linearWarmup(constantLR(1), 10, 0.1);
  assert.ok(Math.abs(warm(0) - 0.1) < 1e-12);
  assert.ok(Math.abs(warm(5) - 0.55) < 1e-12);
  assert.equal(warm(10), 1);
  assert.throws(() => multiStepLR(0.1, [5, 3]), /milestones must increase/);
});

/** Trains w on a fixed gradient with a rate changing every step; returns w's bits. */
function train(opt: tf.SGDOptimizer, w: tf.Variable, set: (lr: number) => void): Float32Array {
  for (let i = 0; i < 50; i++) {
    set(0.1 / (1 + i) + 1e-7 * i);
    const g = tf.tidy(() => tf.linspace(-1, 1, 7).mul(i + 1));
    opt.applyGradients({ [w.name]: g });
    g.dispose();
  }
  return w.dataSync() as Float32Array;
}

for (const backend of ['cpu', 'wasm'] as const) {
  for (const kind of ['sgd', 'momentum'] as const) {
    test(`on ${backend}, ${kind}'s rate set every step trains exactly as tfjs's setLearningRate does, without a tensor per step`, async () => {
      if (backend === 'wasm') await enableWasmTraining();
      assert.ok(await tf.setBackend(backend));
      const make = (): tf.SGDOptimizer => (kind === 'sgd' ? tf.train.sgd(0.5) : (tf.train.momentum(0.5, 0.9) as unknown as tf.SGDOptimizer));
      const wa = tf.variable(tf.zeros([7]));
      const wb = tf.variable(tf.zeros([7]));
      const a = make();
      const b = make();
      const c = (a as unknown as { c: tf.Tensor }).c;
      const before = tf.memory().numTensors;
      let made = 0;
      const mine = train(a, wa, (lr) => {
        const n = tf.memory().numTensors;
        setLearningRate(a, lr);
        made += tf.memory().numTensors - n;
      });
      const theirs = train(b, wb, (lr) => b.setLearningRate(lr));
      assert.deepEqual(Array.from(mine), Array.from(theirs), 'the same weights, bit for bit');
      assert.equal((a as unknown as { c: tf.Tensor }).c, c, 'the rate tensor was written in place, not replaced');
      assert.equal(made, 0);
      const rate = (o: tf.Optimizer): number => (o as unknown as { learningRate: number }).learningRate;
      assert.equal(rate(a), rate(b));
      assert.ok(tf.memory().numTensors - before < 10);
      tf.dispose([wa, wb]);
      a.dispose();
      b.dispose();
    });
  }
}

test('a rate tensor another tensor shares storage with is replaced, not written (the sharer keeps its value)', () => {
  const opt = tf.train.sgd(0.5);
  const o = opt as unknown as { c: tf.Tensor };
  const alias = o.c.reshape([1]); // shares the storage: refCount 2
  setLearningRate(opt, 0.25);
  assert.deepEqual(Array.from(alias.dataSync()), [-0.5]);
  assert.deepEqual(Array.from(o.c.dataSync()), [-0.25]);
  alias.dispose();
  opt.dispose();
});

test('an optimizer with a numeric rate gets the number; one without is a typed error naming it', () => {
  const adam = tf.train.adam(0.1);
  setLearningRate(adam, 0.01);
  assert.equal((adam as unknown as { learningRate: number }).learningRate, 0.01);
  const odd = { getClassName: () => 'Odd' } as unknown as tf.Optimizer;
  assert.throws(() => setLearningRate(odd, 0.1), (e: unknown) => (e as { code?: string }).code === 'ERR_INVALID_ARGUMENT' && /Odd/.test((e as Error).message));
});
