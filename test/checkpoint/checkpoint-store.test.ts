import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  CheckpointCorruptError,
  CheckpointMismatchError,
  CheckpointNotFoundError,
  CheckpointStore,
  nodeFileIO,
} from '../../src/checkpoint/index.js';
import { InvalidArgumentError } from '../../src/errors/index.js';

let root: string;
let counter = 0;

before(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'trainledger-store-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshDir(): string {
  counter += 1;
  return join(root, `store-${counter}`);
}

function makeModel(seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 6, inputShape: [4], activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 100 }) }),
    ],
  });
}

const INPUT = [
  [0.5, -1, 0.25, 2],
  [1, 0, -0.5, 0.3],
  [-2, 0.1, 0.7, -0.4],
];
const TARGET = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

function predict(model: tf.LayersModel): number[] {
  return tf.tidy(() => Array.from((model.predict(tf.tensor2d(INPUT)) as tf.Tensor).dataSync()));
}

function weightValues(model: tf.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

async function trainStep(model: tf.LayersModel): Promise<void> {
  const xs = tf.tensor2d(INPUT);
  const ys = tf.tensor2d(TARGET);
  await model.trainOnBatch(xs, ys);
  tf.dispose([xs, ys]);
}

async function saveSmall(store: CheckpointStore, name: string, iteration: number): Promise<tf.Sequential> {
  const model = makeModel(iteration);
  await store.save(name, { model, state: { iteration } });
  return model;
}

test('a LayersModel restored into a fresh model of the same architecture predicts the same', async () => {
  const store = new CheckpointStore(freshDir());
  const original = makeModel(1);
  const info = await store.save('iter-10', { model: original, state: { iteration: 10, note: 'hello' } });
  assert.equal(info.name, 'iter-10');
  assert.equal(info.iteration, 10);
  assert.equal(info.model, 'layers-model');
  assert.ok(info.bytes > 0);

  const fresh = makeModel(2);
  assert.notDeepEqual(predict(fresh), predict(original));
  const { state, info: loadedInfo } = await store.load('iter-10', { model: fresh });
  assert.deepEqual(state, { iteration: 10, note: 'hello' });
  assert.equal(loadedInfo.iteration, 10);
  assert.deepEqual(predict(fresh), predict(original));

  const direct = await tf.loadLayersModel(nodeFileIO(info.path));
  assert.deepEqual(predict(direct), predict(original));
  original.dispose();
  fresh.dispose();
  direct.dispose();
});

test('a record of variables round-trips by key', async () => {
  const store = new CheckpointStore(freshDir());
  const saved = { 'encoder/w': tf.variable(tf.tensor2d([[1, 2], [3, 4]])), step: tf.variable(tf.scalar(7, 'int32')) };
  await store.save('vars', { model: saved, state: { iteration: 1 } });

  const target = { step: tf.variable(tf.scalar(0, 'int32')), 'encoder/w': tf.variable(tf.zeros([2, 2])) };
  await store.load('vars', { model: target });
  assert.deepEqual(Array.from(target['encoder/w'].dataSync()), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(target.step.dataSync()), [7]);
  tf.dispose([...Object.values(saved), ...Object.values(target)]);
});

test('a step after restoring Adam state gives the same weights as a step without saving', async () => {
  const store = new CheckpointStore(freshDir());
  const optimizerA = tf.train.adam(0.05);
  const modelA = makeModel(3);
  modelA.compile({ optimizer: optimizerA, loss: 'meanSquaredError' });
  for (let i = 0; i < 3; i++) await trainStep(modelA);
  await store.save('adam', { model: modelA, optimizer: optimizerA, state: { iteration: 3 } });
  await trainStep(modelA);

  const optimizerB = tf.train.adam(0.05);
  const modelB = makeModel(4);
  modelB.compile({ optimizer: optimizerB, loss: 'meanSquaredError' });
  const { info } = await store.load('adam', { model: modelB, optimizer: optimizerB });
  assert.equal(info.optimizer, 'Adam');
  assert.equal(optimizerB.iterations, 3);
  await trainStep(modelB);

  assert.deepEqual(weightValues(modelB), weightValues(modelA));
  modelA.dispose();
  modelB.dispose();
  optimizerA.dispose();
  optimizerB.dispose();
});

test('optimizer state of variables trained with minimize round-trips', async () => {
  const store = new CheckpointStore(freshDir());
  const makeVars = () => ({ w: tf.variable(tf.tensor1d([1, -2, 3])) });
  const loss = (w: tf.Variable) => () => tf.sum(tf.square(tf.sub(w, tf.tensor1d([0.5, 0.5, 0.5])))) as tf.Scalar;
  const a = makeVars();
  const optA = tf.train.rmsprop(0.1, 0.9, 0.5);
  for (let i = 0; i < 2; i++) optA.minimize(loss(a.w), false, [a.w]);
  await store.save('rms', { model: a, optimizer: optA, state: {} });
  optA.minimize(loss(a.w), false, [a.w]);

  const b = { w: tf.variable(tf.zeros([3])) };
  const optB = tf.train.rmsprop(0.1, 0.9, 0.5);
  await store.load('rms', { model: b, optimizer: optB });
  // Slots are matched by position, so b.w picks up the state a.w built although their names differ.
  optB.minimize(loss(b.w), false, [b.w]);
  assert.deepEqual(Array.from(b.w.dataSync()), Array.from(a.w.dataSync()));
  tf.dispose([a.w, b.w]);
  optA.dispose();
  optB.dispose();
});

test('saving and loading model and optimizer leaks no tensors', async () => {
  const store = new CheckpointStore(freshDir());
  const optimizerA = tf.train.adam(0.01);
  const modelA = makeModel(5);
  modelA.compile({ optimizer: optimizerA, loss: 'meanSquaredError' });
  await trainStep(modelA);
  const optimizerB = tf.train.adam(0.01);
  const modelB = makeModel(6);
  modelB.compile({ optimizer: optimizerB, loss: 'meanSquaredError' });
  await trainStep(modelB);

  const before = tf.memory().numTensors;
  await store.save('leak', { model: modelA, optimizer: optimizerA, state: { iteration: 1 } });
  assert.equal(tf.memory().numTensors, before);
  // modelB's optimizer already owns slot variables; restoring replaces them without leaking.
  await store.load('leak', { model: modelB, optimizer: optimizerB });
  assert.equal(tf.memory().numTensors, before);
  modelA.dispose();
  modelB.dispose();
  optimizerA.dispose();
  optimizerB.dispose();
});

test('a truncated weights.bin is reported as corrupt and the checkpoint is not listed', async () => {
  const store = new CheckpointStore(freshDir());
  const model = await saveSmall(store, 'ckpt', 1);
  const weights = join(store.dir, 'ckpt', 'weights.bin');
  await truncate(weights, 8);
  assert.deepEqual(store.list(), []);
  await assert.rejects(store.load('ckpt', { model }), (error: unknown) => {
    assert.ok(error instanceof CheckpointCorruptError);
    assert.equal(error.code, 'ERR_CHECKPOINT_CORRUPT');
    assert.equal(error.file, weights);
    assert.match(error.message, /has 8 bytes; the manifest records 204/);
    return true;
  });
  model.dispose();
});

test('a flipped byte in weights.bin is reported as corrupt before any weight changes', async () => {
  const store = new CheckpointStore(freshDir());
  const saved = await saveSmall(store, 'ckpt', 1);
  const weights = join(store.dir, 'ckpt', 'weights.bin');
  const bytes = await readFile(weights);
  bytes.writeUInt8(bytes.readUInt8(17) ^ 0x40, 17);
  await writeFile(weights, bytes);

  const target = makeModel(9);
  const beforeLoad = predict(target);
  await assert.rejects(store.load('ckpt', { model: target }), (error: unknown) => {
    assert.ok(error instanceof CheckpointCorruptError);
    assert.equal(error.file, weights);
    assert.match(error.message, /SHA-256/);
    return true;
  });
  assert.deepEqual(predict(target), beforeLoad);
  saved.dispose();
  target.dispose();
});

test('a checkpoint whose manifest was deleted is not listed and loads as corrupt', async () => {
  const store = new CheckpointStore(freshDir());
  const model = await saveSmall(store, 'ckpt', 1);
  await rm(join(store.dir, 'ckpt', 'checkpoint.json'));
  assert.deepEqual(store.list(), []);
  assert.equal(store.latest(), undefined);
  await assert.rejects(store.load('ckpt', { model }), (error: unknown) => {
    assert.ok(error instanceof CheckpointCorruptError);
    assert.equal(error.file, join(store.dir, 'ckpt', 'checkpoint.json'));
    return true;
  });
  model.dispose();
});

test('a leftover temp folder is not listed and cleanTemp removes it', async () => {
  const store = new CheckpointStore(freshDir());
  const model = await saveSmall(store, 'good', 1);
  // A pid above any pid_max: the process that wrote it is certainly gone.
  const leftover = join(store.dir, '.next.tmp-999999999-abcdef');
  await cp(join(store.dir, 'good'), leftover, { recursive: true });
  await mkdir(join(store.dir, '.half.tmp-999999999-0123'));
  assert.deepEqual(store.list().map((c) => c.name), ['good']);

  const result = await store.cleanTemp();
  assert.deepEqual([...result.removed].sort(), [join(store.dir, '.half.tmp-999999999-0123'), leftover].sort());
  assert.deepEqual(result.restored, []);
  assert.deepEqual(await readdir(store.dir), ['good']);
  model.dispose();
});

test('cleanTemp puts back a checkpoint displaced by a replace that crashed halfway', async () => {
  const store = new CheckpointStore(freshDir());
  const model = await saveSmall(store, 'ckpt', 4);
  const displaced = join(store.dir, '.ckpt.old-999999999-00ff');
  await cp(join(store.dir, 'ckpt'), displaced, { recursive: true });
  await rm(join(store.dir, 'ckpt'), { recursive: true });
  assert.deepEqual(store.list(), []);

  const result = await store.cleanTemp();
  assert.deepEqual(result.restored, [join(store.dir, 'ckpt')]);
  assert.deepEqual(store.list().map((c) => [c.name, c.iteration]), [['ckpt', 4]]);
  model.dispose();
});

test('cleanTemp leaves alone a temp folder whose writing process is still alive', async () => {
  const store = new CheckpointStore(freshDir());
  await mkdir(join(store.dir, `.busy.tmp-${process.ppid}-abcd`), { recursive: true });
  const result = await store.cleanTemp();
  assert.deepEqual(result.removed, []);
  assert.deepEqual(await readdir(store.dir), [`.busy.tmp-${process.ppid}-abcd`]);
});

test('saving under an existing name replaces it and leaves no hidden folders', async () => {
  const store = new CheckpointStore(freshDir());
  const first = await saveSmall(store, 'last', 1);
  const second = await saveSmall(store, 'last', 2);
  const { state } = await store.load('last');
  assert.deepEqual(state, { iteration: 2 });
  assert.deepEqual(await readdir(store.dir), ['last']);
  const target = makeModel(50);
  await store.load('last', { model: target });
  assert.deepEqual(predict(target), predict(second));
  first.dispose();
  second.dispose();
  target.dispose();
});

test('list orders checkpoints by creation and latest returns the newest; remove deletes one', async () => {
  const store = new CheckpointStore(freshDir());
  const models = [];
  for (const [name, iteration] of [['b-first', 100], ['a-second', 200], ['c-third', 300]] as const) {
    models.push(await saveSmall(store, name, iteration));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await store.save('no-iteration', { state: ['not', 'an', 'object'] });
  assert.deepEqual(store.list().map((c) => c.name), ['b-first', 'a-second', 'c-third', 'no-iteration']);
  assert.deepEqual(store.list().map((c) => c.iteration), [100, 200, 300, undefined]);
  assert.equal(store.latest()?.name, 'no-iteration');

  await store.remove('no-iteration');
  assert.equal(store.latest()?.name, 'c-third');
  assert.equal(store.latest()?.iteration, 300);
  await assert.rejects(store.remove('no-iteration'), CheckpointNotFoundError);
  for (const model of models) model.dispose();
});

test('listing or cleaning a directory that does not exist yet gives nothing', async () => {
  const store = new CheckpointStore(join(freshDir(), 'nested', 'missing'));
  assert.deepEqual(store.list(), []);
  assert.deepEqual(await store.cleanTemp(), { removed: [], restored: [] });
});

test('loading a name that does not exist fails with CheckpointNotFoundError', async () => {
  const store = new CheckpointStore(freshDir());
  await assert.rejects(store.load('nope'), (error: unknown) => {
    assert.ok(error instanceof CheckpointNotFoundError);
    assert.equal(error.code, 'ERR_CHECKPOINT_NOT_FOUND');
    return true;
  });
});

test('loading into an incompatible model or optimizer fails with CheckpointMismatchError and changes nothing', async () => {
  const store = new CheckpointStore(freshDir());
  const model = makeModel(1);
  const optimizer = tf.train.adam(0.01);
  model.compile({ optimizer, loss: 'meanSquaredError' });
  await trainStep(model);
  await store.save('ckpt', { model, optimizer, state: {} });

  const other = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [5] })] });
  await assert.rejects(store.load('ckpt', { model: other }), CheckpointMismatchError);

  const target = makeModel(7);
  const beforeLoad = predict(target);
  await assert.rejects(store.load('ckpt', { model: target, optimizer: tf.train.sgd(0.1) }), (error: unknown) => {
    assert.ok(error instanceof CheckpointMismatchError);
    assert.match(error.message, /holds optimizer Adam; the given optimizer is SGD/);
    return true;
  });
  assert.deepEqual(predict(target), beforeLoad);

  const vars = { w: tf.variable(tf.zeros([4, 6])) };
  await assert.rejects(store.load('ckpt', { model: vars }), CheckpointMismatchError);
  tf.dispose(vars.w);
  model.dispose();
  other.dispose();
  target.dispose();
  optimizer.dispose();
});

test('bad names and non-JSON state are rejected with InvalidArgumentError and leave nothing behind', async () => {
  const store = new CheckpointStore(freshDir());
  for (const name of ['', '.hidden', '../escape', 'a/b', '-dash']) {
    await assert.rejects(store.save(name, { state: {} }), InvalidArgumentError);
  }
  await assert.rejects(store.save('big', { state: { n: 1n } }), /cannot be serialized/);
  await assert.rejects(store.save('undef', { state: undefined }), InvalidArgumentError);
  const notVariables = { w: tf.zeros([2]) } as unknown as Record<string, tf.Variable>;
  await assert.rejects(store.save('plain', { model: notVariables, state: {} }), /model\["w"\] is .*; expected a tf.Variable/);
  tf.dispose(notVariables.w);
  assert.deepEqual(await readdir(store.dir), []);
});
