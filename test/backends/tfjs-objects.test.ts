import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { tf } from '../tf-setup.js';
import { isLayersModel, isTensor, isVariable } from '../../src/backends/tfjs-objects.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { CheckpointStore } from '../../src/checkpoint/index.js';
import { tempDir } from '../helpers.js';

type Tfjs = typeof tf;

/**
 * A second copy of tfjs, as a user's own install gives: the self-contained UMD bundle, whose
 * classes are not ours (tfjs keeps one engine and kernel registry per process, so its tensors
 * still compute with ours). Its load re-registers every kernel loudly: those warnings are muted.
 */
function secondTfjs(): Tfjs {
  const warn = console.warn;
  const log = console.log;
  console.warn = () => {};
  console.log = () => {};
  try {
    return createRequire(import.meta.url)('@tensorflow/tfjs/dist/tf.js') as Tfjs;
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

const tf2 = secondTfjs();

test('the second copy of tfjs is a different copy: instanceof tf.LayersModel fails across it', () => {
  const m = tf2.sequential({ layers: [tf2.layers.dense({ inputShape: [2], units: 1 })] });
  assert.notEqual(tf2.LayersModel, tf.LayersModel);
  assert.equal(m instanceof tf.LayersModel, false);
  m.dispose();
});

test('isTensor, isVariable and isLayersModel recognise objects of either copy of tfjs', () => {
  const found = [tf, tf2].map((lib) => {
    const t = lib.tensor1d([1, 2]);
    const v = lib.variable(lib.zeros([2]));
    const m = lib.sequential({ layers: [lib.layers.dense({ inputShape: [2], units: 1 })] });
    const row = [isTensor(t), isVariable(t), isTensor(v), isVariable(v), isLayersModel(m), isLayersModel(t)];
    t.dispose();
    v.dispose();
    m.dispose();
    return row;
  });
  assert.deepEqual(found, [
    [true, false, true, true, true, false],
    [true, false, true, true, true, false],
  ]);
});

test('isTensor, isVariable and isLayersModel reject what only looks partly like them', () => {
  const values: unknown[] = [null, undefined, 0, 'tensor', [], {}, { shape: [1], dtype: 'float32' }, { trainableWeights: [], getWeights() {} }];
  assert.deepEqual(
    values.map((v) => [isTensor(v), isVariable(v), isLayersModel(v)]),
    values.map(() => [false, false, false]),
  );
});

test("SimpleTrainer trains a LayersModel made by the user's own copy of tfjs", async () => {
  const m = tf2.sequential({ layers: [tf2.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: 'zeros' })] });
  function* data() {
    for (;;) yield { x: tf2.tensor2d([1, 2, 3, 4], [4, 1]), y: tf2.tensor2d([2, 4, 6, 8], [4, 1]) };
  }
  const loss = (b: { x: tf.Tensor; y: tf.Tensor }) => tf2.losses.meanSquaredError(b.y, m.apply(b.x) as tf.Tensor) as tf.Scalar;
  const trainer = new SimpleTrainer({ loss, variables: m }, data(), tf2.train.sgd(0.02));
  await trainer.train(0, 60);
  assert.equal(trainer.model, m);
  assert.equal(trainer.variables?.length, 1);
  assert.ok(Math.abs((m.getWeights()[0]!.dataSync()[0] ?? 0) - 2) < 0.05, `weight ${m.getWeights()[0]!.dataSync()[0]}`);
  m.dispose();
});

test("CheckpointStore saves and restores a LayersModel made by the user's own copy of tfjs", async () => {
  const make = (seed: number) =>
    tf2.sequential({ layers: [tf2.layers.dense({ units: 3, inputShape: [4], kernelInitializer: tf2.initializers.glorotUniform({ seed }) })] });
  const predict = (m: tf.LayersModel) => Array.from((m.predict(tf2.ones([1, 4])) as tf.Tensor).dataSync());
  const store = new CheckpointStore(tempDir('trainledger-copy2-'));
  const original = make(1);
  const info = await store.save('c', { model: original, state: { iteration: 3 } });
  const fresh = make(2);
  assert.notDeepEqual(predict(fresh), predict(original));
  await store.load('c', { model: fresh });
  assert.deepEqual([info.model, predict(fresh)], ['layers-model', predict(original)]);
  original.dispose();
  fresh.dispose();
});
