/**
 * Training throughput of TensorFlow.js backends, in one run so the ratios share the machine's
 * conditions: cpu, wasm as shipped, and wasm with trainledger's kernels (`enableWasmTraining`).
 *
 *   npm run bench:backends        (node --import tsx tools/bench/backends.ts)
 *
 * Models: MLP 784-256-10 (Adam) and the classic tfjs MNIST CNN (conv 5×5×8 – max-pool – conv
 * 5×5×16 – max-pool – dense 10, Adam) on 28×28×1 inputs, batch 64. Every backend runs the same
 * hand-written step, `optimizer.minimize(loss, true, weights)`, over a few pre-built batches,
 * with the same initial weights. Each figure is the median steps/s of several timed repeats after
 * a warm-up step, the setups taking turns; the cpu backend gets few steps because its CNN steps
 * take seconds.
 * Targets (issue "Fast CPU training"): wasm + trainledger ≥ 20× cpu for both models.
 *
 *   node --import tsx tools/bench/backends.ts --fit-vs-loop
 *
 * instead compares, on wasm as shipped and with trainledger's kernels, `model.fit` with
 * hand-written training loops (MNIST-shaped MLP 784-128-10, batch 64, SGD): which way the
 * batches are made, and `minimize` versus `variableGrads` + `applyGradients`.
 */
import { availableParallelism } from 'node:os';

import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

import { disableWasmTraining, enableWasmTraining } from '../../src/backends/wasm/index.js';
import { median } from './measure.js';

const BATCH = 64;
const TARGET_RATIO = 20;

interface ModelSpec {
  readonly name: string;
  readonly inputShape: readonly number[];
  readonly build: () => tf.LayersModel;
  /** Steps per timed repeat, per backend kind: cpu is much slower. */
  readonly steps: { readonly cpu: number; readonly wasm: number };
  readonly repeats: { readonly cpu: number; readonly wasm: number };
}

const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });

const MODELS: readonly ModelSpec[] = [
  {
    name: 'MLP 784-256-10',
    inputShape: [784],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: seeded(1) }),
          tf.layers.dense({ units: 10, kernelInitializer: seeded(2) }),
        ],
      }),
    steps: { cpu: 5, wasm: 40 },
    repeats: { cpu: 3, wasm: 5 },
  },
  {
    name: 'CNN conv-pool-conv-pool-dense',
    inputShape: [28, 28, 1],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [28, 28, 1], kernelSize: 5, filters: 8, activation: 'relu', kernelInitializer: seeded(3) }),
          tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
          tf.layers.conv2d({ kernelSize: 5, filters: 16, activation: 'relu', kernelInitializer: seeded(4) }),
          tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, kernelInitializer: seeded(5) }),
        ],
      }),
    steps: { cpu: 1, wasm: 10 },
    repeats: { cpu: 3, wasm: 5 },
  },
];

type Setup = 'cpu' | 'wasm (as shipped)' | 'wasm + trainledger';
const SETUPS: readonly Setup[] = ['cpu', 'wasm (as shipped)', 'wasm + trainledger'];

/** A model trained on one setup: its own weights and batches, living on that setup's backend. */
interface Trainer {
  readonly setup: Setup;
  readonly step: () => void;
  readonly dispose: () => void;
  readonly repeats: number[];
  failure?: string;
}

/** Deterministic batches so every backend trains on the same numbers. */
function hostBatches(inputShape: readonly number[], count: number): Array<{ x: Float32Array; y: Float32Array }> {
  return hostBatchesOf(inputShape, count, BATCH);
}

function hostBatchesOf(
  inputShape: readonly number[],
  count: number,
  rows: number,
): Array<{ x: Float32Array; y: Float32Array }> {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const size = inputShape.reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, () => {
    const x = Float32Array.from({ length: rows * size }, next);
    const y = new Float32Array(rows * 10);
    for (let i = 0; i < rows; i++) y[i * 10 + Math.floor(next() * 10)] = 1;
    return { x, y };
  });
}

async function selectSetup(setup: Setup): Promise<void> {
  if (setup === 'cpu') {
    await tf.setBackend('cpu');
    return;
  }
  if (setup === 'wasm (as shipped)') disableWasmTraining();
  else await enableWasmTraining();
  await tf.setBackend('wasm');
}

/** Builds the model on the setup's backend and takes the warm-up step. */
async function prepare(spec: ModelSpec, setup: Setup): Promise<Trainer> {
  await selectSetup(setup);
  const batches = hostBatches(spec.inputShape, 4).map(({ x, y }) => ({
    x: tf.tensor(x, [BATCH, ...spec.inputShape]),
    y: tf.tensor2d(y, [BATCH, 10]),
  }));
  const model = spec.build();
  const optimizer = tf.train.adam(1e-3);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let batchIndex = 0;
  const trainer: Trainer = {
    setup,
    repeats: [],
    step: () => {
      const batch = batches[batchIndex++ % batches.length];
      if (batch === undefined) throw new Error('bench:backends built no batch');
      const { x, y } = batch;
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
        weights,
      );
      loss?.dataSync();
      loss?.dispose();
    },
    dispose: () => {
      tf.dispose(batches.flatMap(({ x, y }) => [x, y]));
      model.dispose();
      optimizer.dispose();
    },
  };
  try {
    trainer.step(); // warm-up: kernel setup, XNNPACK operator creation, JIT
  } catch (error) {
    trainer.failure = error instanceof Error ? error.message : String(error);
  }
  return trainer;
}

/**
 * Times the setups in interleaved rounds (one repeat of each per round), so that a change in
 * the load of the shared machine hits every setup alike and the ratios stay meaningful.
 */
async function measure(spec: ModelSpec): Promise<Trainer[]> {
  const trainers: Trainer[] = [];
  for (const setup of SETUPS) trainers.push(await prepare(spec, setup));
  const rounds = Math.max(spec.repeats.cpu, spec.repeats.wasm);
  for (let round = 0; round < rounds; round++) {
    for (const trainer of trainers) {
      const kind = trainer.setup === 'cpu' ? 'cpu' : 'wasm';
      if (trainer.failure !== undefined || round >= spec.repeats[kind]) continue;
      await selectSetup(trainer.setup);
      const started = performance.now();
      for (let s = 0; s < spec.steps[kind]; s++) trainer.step();
      trainer.repeats.push((spec.steps[kind] * 1000) / (performance.now() - started));
    }
  }
  for (const trainer of trainers) {
    await selectSetup(trainer.setup);
    trainer.dispose();
  }
  return trainers;
}

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

async function main(): Promise<void> {
  // PROD silences tfjs's "install tfjs-node" banner and other console warnings.
  tf.env().set('PROD', true);
  await tf.setBackend('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  console.log(
    `trainledger backend benchmark: tfjs ${tf.version.tfjs}, node ${process.version}, ` +
      `${availableParallelism()} cores, wasm SIMD ${simd ? 'on' : 'off'}, wasm threads ${getThreadsCount()}; ` +
      `batch ${BATCH}, Adam; median steps/s of timed repeats after one warm-up step`,
  );
  let allMet = true;
  for (const spec of MODELS) {
    console.log(`\n${spec.name}`);
    const trainers = await measure(spec);
    const [cpuTrainer] = trainers;
    if (cpuTrainer === undefined) throw new Error(`bench:backends measured no setup for ${spec.name}`);
    const cpu = median(cpuTrainer.repeats);
    for (const trainer of trainers) {
      if (trainer.failure !== undefined) {
        console.log(`  ${trainer.setup.padEnd(20)} cannot train: ${trainer.failure}`);
        continue;
      }
      const stepsPerSecond = median(trainer.repeats);
      const ratio = stepsPerSecond / cpu;
      const repeats = trainer.repeats.map(format).join(' ');
      let line = `  ${trainer.setup.padEnd(20)} ${format(stepsPerSecond).padStart(7)} steps/s  ${(format(ratio) + '× cpu').padStart(11)}  [${repeats}]`;
      if (trainer.setup === 'wasm + trainledger') {
        const met = ratio >= TARGET_RATIO;
        allMet &&= met;
        line += `  target ≥ ${TARGET_RATIO}× cpu: ${met ? 'met' : 'MISSED'}`;
      }
      console.log(line);
    }
  }
  console.log(`\n${allMet ? 'All targets met.' : 'Some targets missed.'}`);
}

const FIT_DATASET = 6400;
const FIT_STEPS = FIT_DATASET / BATCH;

/**
 * One training epoch over {@link FIT_DATASET} samples per variant; variants take turns, and the
 * median of 3 rounds is printed. Every variant runs the same model and loss.
 */
async function fitVersusLoop(): Promise<void> {
  tf.env().set('PROD', true);
  await tf.setBackend('wasm');
  const [dataset] = hostBatchesOf([784], 1, FIT_DATASET);
  if (dataset === undefined) throw new Error('bench:backends built no dataset');
  const { x: xHost, y: yHost } = dataset;
  const xs = tf.tensor2d(xHost, [FIT_DATASET, 784]);
  const ys = tf.tensor2d(yHost, [FIT_DATASET, 10]);
  const build = () =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu', kernelInitializer: seeded(1) }),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: seeded(2) }),
      ],
    });
  const lossOf = (y: tf.Tensor, p: tf.Tensor) => tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tf.Scalar;
  type Batch = [tf.Tensor, tf.Tensor];
  const viaHostArrays = (i: number): Batch => [
    tf.tensor2d(xHost.subarray(i * BATCH * 784, (i + 1) * BATCH * 784), [BATCH, 784]),
    tf.tensor2d(yHost.subarray(i * BATCH * 10, (i + 1) * BATCH * 10), [BATCH, 10]),
  ];
  const batchVia: Record<string, (i: number) => Batch> = {
    'tf.slice of the dataset': (i) => [xs.slice([i * BATCH, 0], [BATCH, 784]), ys.slice([i * BATCH, 0], [BATCH, 10])],
    'tf.gather from the dataset': (i) =>
      tf.tidy(() => {
        const rows = tf.range(i * BATCH, (i + 1) * BATCH, 1, 'int32');
        return [tf.gather(xs, rows), tf.gather(ys, rows)] as Batch;
      }),
    'tf.tensor of host arrays': viaHostArrays,
  };
  for (const setup of ['wasm (as shipped)', 'wasm + trainledger'] as const) {
    await selectSetup(setup);
    const fitted = build();
    fitted.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
    const looped = build();
    const optimizer = tf.train.sgd(0.05);
    const weights = looped.trainableWeights.map((w) => w.read() as tf.Variable);
    const variants: Record<string, () => Promise<void>> = {
      'model.fit (batchSize 64, shuffle)': async () => {
        await fitted.fit(xs, ys, { batchSize: BATCH, epochs: 1, verbose: 0 });
      },
    };
    for (const [how, batch] of Object.entries(batchVia)) {
      variants[`minimize loop, batches via ${how}`] = async () => {
        for (let i = 0; i < FIT_STEPS; i++) {
          const [x, y] = batch(i);
          const loss = optimizer.minimize(() => lossOf(y, looped.apply(x, { training: true }) as tf.Tensor), true, weights);
          loss?.dataSync();
          loss?.dispose();
          tf.dispose([x, y]);
        }
      };
    }
    variants['variableGrads + applyGradients, host arrays'] = async () => {
      for (let i = 0; i < FIT_STEPS; i++) {
        const [x, y] = viaHostArrays(i);
        const loss = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => lossOf(y, looped.apply(x, { training: true }) as tf.Tensor), weights);
          optimizer.applyGradients(grads);
          return value;
        });
        loss.dataSync();
        tf.dispose([loss, x, y]);
      }
    };
    const rates = new Map<string, number[]>();
    for (const run of Object.values(variants)) await run(); // warm-up
    for (let round = 0; round < 3; round++) {
      for (const [name, run] of Object.entries(variants)) {
        const started = performance.now();
        await run();
        rates.set(name, [...(rates.get(name) ?? []), (FIT_STEPS * 1000) / (performance.now() - started)]);
      }
    }
    console.log(`\n${setup}: MLP 784-128-10, SGD, batch ${BATCH}, dataset ${FIT_DATASET}×784 (median steps/s of 3 rounds)`);
    for (const [name, values] of rates) {
      console.log(`  ${name.padEnd(52)} ${format(median(values)).padStart(7)}  [${values.map(format).join(' ')}]`);
    }
    fitted.dispose();
    looped.dispose();
  }
  tf.dispose([xs, ys]);
}

if (process.argv.includes('--fit-vs-loop')) await fitVersusLoop();
else await main();
