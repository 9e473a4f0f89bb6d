import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tf } from '../tf-setup.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { HookBase } from '../../src/engine/hook-base.js';
import { NonFiniteLossError, DataExhaustedError, TrainerBusyError } from '../../src/engine/errors.js';
import { localComm } from '../../src/engine/comm.js';
import { InvalidArgumentError } from '../../src/errors/trainledger-error.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { tempDir } from '../helpers.js';

type Batch = { x: tf.Tensor1D; y: tf.Tensor1D };

function* linearData(n = Infinity): Generator<Batch> {
  for (let i = 0; i < n; i++) yield { x: tf.tensor1d([1, 2, 3, 4]), y: tf.tensor1d([2, 4, 6, 8]) };
}

function linearModel() {
  const w = tf.variable(tf.scalar(0), true, `w${Math.random()}`);
  const loss = (b: Batch) => tf.losses.meanSquaredError(b.y, b.x.mul(w)) as tf.Scalar;
  return { w, model: { loss, variables: [w] } };
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

test('SimpleTrainer trains plain variables and records total_loss and data_time', async () => {
  const { w, model } = linearModel();
  const t = new SimpleTrainer(model, linearData(), tf.train.sgd(0.02));
  await t.train(0, 50);
  assert.ok(Math.abs(w.dataSync()[0]! - 2) < 0.05, `w = ${w.dataSync()[0]}`);
  const latest = t.storage.latest();
  assert.deepEqual(Object.keys(latest).sort(), ['data_time', 'rank_data_time', 'total_loss']);
  assert.equal(t.storage.history('total_loss').length, 50);
  assert.ok(latest.total_loss![0] < 0.1);
  w.dispose();
});

test('a record of losses puts total_loss and each loss; a single loss only total_loss', async () => {
  const w = tf.variable(tf.scalar(1));
  const t = new SimpleTrainer({ loss: () => ({ a: w.square() as tf.Scalar, b: w.mul(2) as tf.Scalar }), variables: [w] }, linearData(), tf.train.sgd(0.1));
  await t.train(0, 2);
  const l = t.storage.latest();
  assert.deepEqual(Object.keys(l).sort(), ['a', 'b', 'data_time', 'rank_data_time', 'total_loss']);
  assert.ok(Math.abs(l.total_loss![0] - (l.a![0] + l.b![0])) < 1e-6);
  w.dispose();
});

test('a LayersModel can be trained through its trainable weights', async () => {
  const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: 'zeros' })] });
  const loss = (b: Batch) => tf.losses.meanSquaredError(b.y, (m.apply(b.x.reshape([4, 1]), { training: true }) as tf.Tensor).reshape([4])) as tf.Scalar;
  const t = new SimpleTrainer({ loss, variables: m }, linearData(), tf.train.sgd(0.02));
  await t.train(0, 60);
  assert.ok(Math.abs((m.getWeights()[0]!.dataSync()[0] ?? 0) - 2) < 0.05);
  assert.equal(t.model, m);
  m.dispose();
});

test('a non-finite loss throws naming the iteration and losses before the optimizer step', async () => {
  const w = tf.variable(tf.scalar(1));
  const t: SimpleTrainer<Batch> = new SimpleTrainer<Batch>({ loss: (): Record<string, tf.Scalar> => ({ good: w.square() as tf.Scalar, bad: w.mul(tf.scalar(t.iter === 3 ? NaN : 1)) as tf.Scalar }), variables: [w] }, linearData(), tf.train.sgd(0.01));
  let before3 = NaN;
  t.register(new (class extends HookBase {
    override afterStep() { if (this.trainer.iter === 2) before3 = w.dataSync()[0]!; }
  })());
  await assert.rejects(t.train(0, 10), (e: unknown) => e instanceof NonFiniteLossError && e.iter === 3 && /iteration=3/.test(e.message) && Number.isNaN(e.losses.bad));
  assert.equal(w.dataSync()[0], before3, 'the weights did not take the NaN step');
  assert.equal(t.iter, 3);
  w.dispose();
});

test('with gatherMetricPeriod 5 metrics are written at iterations 4, 9, ... and a NaN in an unread step is still reported', async () => {
  const w = tf.variable(tf.scalar(1));
  const t = new SimpleTrainer({ loss: () => w.square() as tf.Scalar, variables: [w] }, linearData(), tf.train.sgd(0.01), { gatherMetricPeriod: 5 });
  await t.train(0, 20);
  assert.deepEqual(t.storage.history('total_loss').values().map((v) => v[1]), [4, 9, 14, 19]);
  const t2: SimpleTrainer<Batch> = new SimpleTrainer<Batch>({ loss: (): tf.Scalar => w.mul(tf.scalar(t2.iter === 6 ? Infinity : 1)) as tf.Scalar, variables: [w] }, linearData(), tf.train.sgd(0.01), { gatherMetricPeriod: 5 });
  await assert.rejects(t2.train(0, 20), (e: unknown) => e instanceof NonFiniteLossError && e.iter === 6);
  assert.equal(t2.iter, 9, 'detected at the next read, iteration 9');
  t.dispose();
  t2.dispose();
  w.dispose();
});

test('the number of tensors stays flat over 1,000 steps', async () => {
  const { w, model } = linearModel();
  const t = new SimpleTrainer(model, linearData(), tf.train.adam(0.01));
  await t.train(0, 10);
  const before = tf.memory().numTensors;
  await t.train(10, 1010);
  assert.equal(tf.memory().numTensors, before);
  t.dispose();
  w.dispose();
});

test('no tensor outlives a step: layers with dropout, a record of losses, unread steps, failures', async () => {
  const layers = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 1 })] });
  const w = tf.variable(tf.scalar(1));
  const x = tf.ones([2, 4]);
  const cases: ReadonlyArray<{ readonly name: string; readonly trainer: () => SimpleTrainer<Batch> }> = [
    { name: 'LayersModel', trainer: () => new SimpleTrainer<Batch>({ loss: () => (layers.apply(x, { training: true }) as tf.Tensor).square().mean() as tf.Scalar, variables: layers }, linearData(), tf.train.adam(1e-3)) },
    { name: 'record of losses', trainer: () => new SimpleTrainer<Batch>({ loss: () => ({ a: w.square() as tf.Scalar, b: w.mul(2).abs() as tf.Scalar }), variables: [w] }, linearData(), tf.train.sgd(1e-3)) },
    { name: 'gatherMetricPeriod 3, one loss', trainer: () => new SimpleTrainer<Batch>({ loss: () => w.square() as tf.Scalar, variables: [w] }, linearData(), tf.train.sgd(1e-3), { gatherMetricPeriod: 3 }) },
    { name: 'gatherMetricPeriod 3, a record', trainer: () => new SimpleTrainer<Batch>({ loss: () => ({ a: w.square() as tf.Scalar, b: w.abs() as tf.Scalar }), variables: [w] }, linearData(), tf.train.sgd(1e-3), { gatherMetricPeriod: 3 }) },
  ];
  for (const c of cases) {
    const t = c.trainer();
    await t.train(0, 5); // the optimizer makes its slots once
    const before = tf.memory().numTensors;
    await t.train(5, 305);
    t.dispose();
    // t.dispose() frees the trainer's one tensor kept between steps (the first bad iteration).
    assert.equal(tf.memory().numTensors, before - (c.name.startsWith('gather') ? 1 : 0), c.name);
  }
  // Failures: the loss throws; the losses do not depend on the variables, or the loss is not a
  // scalar (variableGrads throws after the loss was computed); the total is NaN (thrown before
  // the update).
  const failing: ReadonlyArray<{ readonly name: string; readonly loss: () => tf.Scalar | Record<string, tf.Scalar>; readonly error: RegExp }> = [
    { name: 'loss throws', loss: () => { tf.ones([3]); throw new Error('boom'); }, error: /boom/ },
    { name: 'no gradient path', loss: () => ({ a: tf.scalar(1), b: tf.scalar(2) }), error: /Cannot find a connection/ },
    { name: 'not a scalar', loss: () => w.mul(tf.ones([3])) as tf.Scalar, error: /^the model's loss must be a scalar tensor, got a tensor of shape \[3\] at iteration 0$/ },
    { name: 'a part not a scalar', loss: () => ({ a: w.square() as tf.Scalar, b: w.mul(tf.ones([2, 2])) as tf.Scalar }), error: /^the model's loss "b" must be a scalar tensor, got a tensor of shape \[2, 2\] at iteration 0$/ },
    { name: 'empty record', loss: () => { w.square(); return {}; }, error: /^the model must return a scalar loss tensor or a non-empty record of them, got an empty object at iteration 0$/ },
    { name: 'NaN total', loss: () => w.mul(NaN) as tf.Scalar, error: /iteration=0/ },
  ];
  for (const f of failing) {
    const opt = tf.train.sgd(1e-3); // (holds its rate as a tensor)
    const before = tf.memory().numTensors;
    const t = new SimpleTrainer<Batch>({ loss: f.loss, variables: [w] }, linearData(), opt);
    await assert.rejects(t.train(0, 3), (e: unknown) => e instanceof Error && f.error.test(e.message) && (f.error.source.startsWith('^the model') ? e instanceof InvalidArgumentError : true), f.name);
    t.dispose();
    assert.equal(tf.memory().numTensors, before, f.name);
    opt.dispose();
  }
  layers.dispose();
  w.dispose();
  x.dispose();
});

test('losses are read from the device once per written step, never once per scalar', async () => {
  const w = tf.variable(tf.scalar(1));
  const t = new SimpleTrainer({ loss: () => ({ a: w.square() as tf.Scalar, b: w.mul(2) as tf.Scalar, c: w.mul(3) as tf.Scalar }), variables: [w] }, linearData(), tf.train.sgd(0.01), { gatherMetricPeriod: 2 });
  const proto = tf.Tensor.prototype;
  const orig = { dataSync: proto.dataSync, data: proto.data, arraySync: proto.arraySync, array: proto.array };
  let reads = 0;
  proto.dataSync = function (this: tf.Tensor) { reads++; return orig.dataSync.call(this); } as typeof proto.dataSync;
  proto.data = function (this: tf.Tensor) { reads++; return orig.data.call(this); } as typeof proto.data;
  proto.arraySync = function (this: tf.Tensor) { reads++; return orig.arraySync.call(this); } as typeof proto.arraySync;
  proto.array = function (this: tf.Tensor) { reads++; return orig.array.call(this); } as typeof proto.array;
  try {
    await t.train(0, 10);
  } finally {
    Object.assign(proto, orig);
  }
  assert.equal(reads, 5);
  t.dispose();
  w.dispose();
});

test('afterBackward hooks see the gradients and may replace them (clipping)', async () => {
  const w = tf.variable(tf.scalar(10));
  class ClipToZero extends HookBase {
    seen = 0;
    override afterBackward() {
      const t = this.trainer as SimpleTrainer;
      this.seen = Object.keys(t.grads!).length;
      const clipped: tf.NamedTensorMap = {};
      for (const [k, g] of Object.entries(t.grads!)) clipped[k] = tf.zerosLike(g);
      tf.dispose(t.grads!);
      t.grads = clipped;
    }
  }
  const hook = new ClipToZero();
  const t = new SimpleTrainer({ loss: () => w.square() as tf.Scalar, variables: [w] }, linearData(), tf.train.sgd(0.1));
  t.register(hook);
  const before = tf.memory().numTensors;
  await t.train(0, 5);
  assert.equal(hook.seen, 1);
  assert.equal(w.dataSync()[0], 10);
  assert.equal(tf.memory().numTensors, before);
  w.dispose();
});

test('trainer.state.grads is the trainer\'s gradients, including those an afterBackward hook put in their place', async () => {
  const w = tf.variable(tf.scalar(10));
  const same: boolean[] = [];
  class Replace extends HookBase {
    override afterBackward() {
      const t = this.trainer as SimpleTrainer;
      const zeros: tf.NamedTensorMap = {};
      for (const [k, g] of Object.entries(t.grads ?? {})) zeros[k] = tf.zerosLike(g);
      tf.dispose(t.grads ?? {});
      t.grads = zeros;
      same.push(t.state.grads === zeros);
    }
    override afterStep() {
      same.push(this.trainer.state.grads !== null && this.trainer.state.grads === (this.trainer as SimpleTrainer).grads);
    }
  }
  const t = new SimpleTrainer({ loss: () => w.square() as tf.Scalar, variables: [w] }, linearData(), tf.train.sgd(0.1));
  t.register(new Replace());
  await t.train(0, 2);
  assert.deepEqual(same, [true, true, true, true]);
  assert.equal(t.state.grads, null, 'train() frees the last gradients');
  w.dispose();
});

test("a step's gradients stay readable by afterStep and the next beforeStep hooks, and are freed before the next forward pass (zeroGradBeforeForward) or after its backward pass (default)", async () => {
  for (const zeroGradBeforeForward of [false, true]) {
    const w = tf.variable(tf.scalar(3), true, `wz${String(zeroGradBeforeForward)}`);
    const seen: Array<{ where: string; iter: number; grad: number | null }> = [];
    let previous: tf.Tensor | null = null;
    const freedBeforeForward: boolean[] = [];
    const t: SimpleTrainer<Batch> = new SimpleTrainer<Batch>(
      {
        loss: () => {
          // Inside the forward pass: the previous step's gradients, freed or not yet.
          if (previous !== null) freedBeforeForward.push(previous.isDisposed && t.grads === null);
          return w.square() as tf.Scalar;
        },
        variables: [w],
      },
      linearData(),
      tf.train.sgd(0.1),
      { zeroGradBeforeForward },
    );
    const read = (where: string) => {
      const g = t.grads?.[w.name];
      seen.push({ where, iter: t.iter, grad: g === undefined ? null : round(g.dataSync()[0]!) });
      if (g !== undefined) previous = g;
    };
    t.register(new (class extends HookBase {
      override beforeStep() { read('beforeStep'); }
      override afterBackward() { read('afterBackward'); }
      override afterStep() { read('afterStep'); }
    })());
    const before = tf.memory().numTensors;
    await t.train(0, 3);
    // d(w²)/dw = 2w, with w = 3, then 3 − 0.1·6 = 2.4, then 2.4 − 0.48 = 1.92.
    assert.deepEqual(seen, [
      { where: 'beforeStep', iter: 0, grad: null },
      { where: 'afterBackward', iter: 0, grad: 6 },
      { where: 'afterStep', iter: 0, grad: 6 },
      { where: 'beforeStep', iter: 1, grad: 6 },
      { where: 'afterBackward', iter: 1, grad: 4.8 },
      { where: 'afterStep', iter: 1, grad: 4.8 },
      { where: 'beforeStep', iter: 2, grad: 4.8 },
      { where: 'afterBackward', iter: 2, grad: 3.84 },
      { where: 'afterStep', iter: 2, grad: 3.84 },
    ], String(zeroGradBeforeForward));
    assert.deepEqual(freedBeforeForward, [zeroGradBeforeForward, zeroGradBeforeForward], String(zeroGradBeforeForward));
    assert.equal(t.grads, null, 'train() frees the last gradients');
    assert.equal(tf.memory().numTensors, before);
    w.dispose();
  }
  assert.throws(() => new SimpleTrainer(() => tf.scalar(0), linearData(), tf.train.sgd(0.1), { zeroGradBeforeForward: 'yes' as unknown as boolean }), (e: unknown) => e instanceof InvalidArgumentError && /zeroGradBeforeForward must be a boolean, got "yes"/.test(e.message));
});

test('a train() call refused while training runs leaves that run\'s gradients alone', async () => {
  const w = tf.variable(tf.scalar(1));
  const t = new SimpleTrainer<Batch>({ loss: () => w.square() as tf.Scalar, variables: [w] }, linearData(), tf.train.sgd(0.01));
  let refused: unknown = null;
  t.register(new (class extends HookBase {
    override async afterStep() {
      if (this.trainer.iter !== 1) return;
      refused = await t.train(0, 5).then(() => null, (e: unknown) => e);
      assert.ok(t.grads !== null && !Object.values(t.grads).some((g) => g?.isDisposed), 'the running step keeps its gradients');
    }
  })());
  await t.train(0, 3);
  assert.ok(refused instanceof TrainerBusyError, String(refused));
  w.dispose();
});

test('async iterables feed the trainer and running out of data is a typed error', async () => {
  const w = tf.variable(tf.scalar(1));
  async function* gen() { for (let i = 0; i < 3; i++) yield i; }
  const t = new SimpleTrainer({ loss: () => w.square() as tf.Scalar, variables: [w] }, gen(), tf.train.sgd(0.1));
  await assert.rejects(t.train(0, 5), (e: unknown) => e instanceof DataExhaustedError && /iteration 3/.test(e.message));
  w.dispose();
});

test('stateDict includes the optimizer weights and loadStateDict restores them', async () => {
  const w = tf.variable(tf.scalar(1));
  const opt = tf.train.adam(0.1);
  const t = new SimpleTrainer({ loss: () => w.square() as tf.Scalar, variables: [w] }, linearData(), opt);
  await t.train(0, 3);
  const sd = await t.stateDict();
  assert.equal(sd.iteration, 3);
  const saved = sd.optimizer ?? [];
  assert.ok(saved.length >= 3);
  const opt2 = tf.train.adam(0.1);
  const t2 = new SimpleTrainer({ loss: () => w.square() as tf.Scalar, variables: [w] }, linearData(), opt2);
  await t2.loadStateDict(sd);
  const again = (await t2.stateDict()).optimizer ?? [];
  assert.deepEqual(again.map((x) => x.values), saved.map((x) => x.values));
  w.dispose();
});

test('a trained run replays from its log to the same metrics', async () => {
  const path = join(tempDir(), 't.sqlite');
  const { w, model } = linearModel();
  const t = new SimpleTrainer(model, linearData(), tf.train.sgd(0.01), { log: path, runName: 'lin', config: { lr: 0.01 } });
  await t.train(0, 30);
  const log = LogFile.open(path, { readonly: true });
  const { state } = replayRun(log, log.run('lin').id);
  assert.deepEqual(state.metrics.histories[state.metrics.index.get('total_loss')!]!.values(), t.storage.history('total_loss').values());
  assert.equal(state.info.status, 'completed');
  assert.deepEqual(state.info.run?.config, { lr: 0.01 });
  log.close();
  w.dispose();
});

test('the single-process comm gathers one value', () => {
  assert.deepEqual(localComm.gather({ a: 1 }), [{ a: 1 }]);
  assert.equal(localComm.worldSize, 1);
  assert.ok(localComm.isMainProcess());
});
