import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../tf-setup.js';
import { setLearningRate } from '../../src/hooks/lr-scheduler.js';
import { enableWasmTraining } from '../../src/backends/wasm/index.js';

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
