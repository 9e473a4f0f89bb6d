import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelFileError, nodeFileIO, registerFileScheme } from '../../src/checkpoint/index.js';

let root: string;

before(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'trainledger-file-io-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function makeModel(seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 5, inputShape: [3], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: 'ones' }),
    ],
  });
}

function predict(model: tf.LayersModel): number[] {
  return tf.tidy(() => Array.from((model.predict(tf.tensor2d([[0.1, -0.2, 0.3], [1, 2, -3]])) as tf.Tensor).dataSync()));
}

test('a model saved with nodeFileIO loads back with tf.loadLayersModel and predicts the same', async () => {
  const dir = join(root, 'round-trip');
  const model = makeModel(1);
  const result = await model.save(nodeFileIO(dir));
  assert.equal(result.modelArtifactsInfo.modelTopologyType, 'JSON');

  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  assert.equal(json.weightsManifest[0].weights.length, 4);
  assert.equal((await readFile(join(dir, 'weights.bin'))).byteLength, (3 * 5 + 5 + 5 * 2 + 2) * 4);

  const loaded = await tf.loadLayersModel(nodeFileIO(dir));
  assert.deepEqual(predict(loaded), predict(model));
  model.dispose();
  loaded.dispose();
});

test('a path ending in .json names the model file and puts the weights beside it', async () => {
  const file = join(root, 'named', 'best.json');
  const model = makeModel(2);
  await model.save(nodeFileIO(file));
  assert.ok((await readFile(join(root, 'named', 'best.weights.bin'))).byteLength > 0);
  const loaded = await tf.loadLayersModel(nodeFileIO(file));
  assert.deepEqual(predict(loaded), predict(model));
  model.dispose();
  loaded.dispose();
});

test('registerFileScheme makes file:// URLs work and registers only once', async () => {
  const first = registerFileScheme();
  assert.equal(first, true);
  assert.equal(registerFileScheme(), false);
  assert.equal(tf.io.getSaveHandlers('file:///somewhere').length, 1);

  const dir = join(root, 'scheme');
  const model = makeModel(3);
  await model.save(`file://${dir}`);
  const fromDir = await tf.loadLayersModel(`file://${dir}`);
  const fromFile = await tf.loadLayersModel(`file://${join(dir, 'model.json')}`);
  assert.deepEqual(predict(fromDir), predict(model));
  assert.deepEqual(predict(fromFile), predict(model));
  model.dispose();
  fromDir.dispose();
  fromFile.dispose();
});

test('loading from a directory without model.json fails with ModelFileError naming the file', async () => {
  const missing = join(root, 'does-not-exist');
  await assert.rejects(tf.loadLayersModel(nodeFileIO(missing)), (error: unknown) => {
    assert.ok(error instanceof ModelFileError);
    assert.equal(error.code, 'ERR_MODEL_FILE');
    assert.equal(error.file, join(missing, 'model.json'));
    return true;
  });
});

test('loading truncated weights fails with ModelFileError stating both sizes', async () => {
  const dir = join(root, 'truncated');
  const model = makeModel(4);
  await model.save(nodeFileIO(dir));
  await truncate(join(dir, 'weights.bin'), 10);
  await assert.rejects(tf.loadLayersModel(nodeFileIO(dir)), (error: unknown) => {
    assert.ok(error instanceof ModelFileError);
    assert.match(error.message, /holds 10 bytes of weights; the manifest describes 128/);
    return true;
  });
  model.dispose();
});

test('loading a model.json that is not JSON fails with ModelFileError', async () => {
  const dir = join(root, 'garbage');
  const model = makeModel(5);
  await model.save(nodeFileIO(dir));
  await writeFile(join(dir, 'model.json'), '{"modelTopology": ');
  await assert.rejects(tf.loadLayersModel(nodeFileIO(dir)), ModelFileError);
  model.dispose();
});

test('saving and loading through nodeFileIO leaves no extra tensors behind', async () => {
  const dir = join(root, 'leaks');
  const model = makeModel(6);
  const before = tf.memory().numTensors;
  await model.save(nodeFileIO(dir));
  assert.equal(tf.memory().numTensors, before);
  const loaded = await tf.loadLayersModel(nodeFileIO(dir));
  loaded.dispose();
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
