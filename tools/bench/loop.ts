/**
 * Per-step overhead of the trainer on a no-op 1-weight model (loss = w², cpu backend), measured
 * in one process, variants interleaved, median of repeats:
 *   (a) a hand-written tfjs loop: tidy(variableGrads) + applyGradients + one loss read per step
 *       (the trainer also reads the loss every step at gatherMetricPeriod 1)
 *   (b) SimpleTrainer, no hooks, no log
 *   (c) SimpleTrainer + IterationTimer + LRScheduler + PeriodicWriter(JSONWriter, 20) + the
 *       durable SQLite log of every scalar (durability 'step')
 * and the overhead (c − a) per step. Target: ≤ 10 µs.
 *
 * Per-step figures are steady state: the clock starts at iteration STEPS/5, so one-time costs
 * (opening the log, starting its writer thread: ~0.5 s under tsx, which compiles the worker's
 * TypeScript) are reported separately as "startup".
 *
 *   npm run bench:loop [-- --steps 5000 --repeats 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { IterationTimer } from '../../src/hooks/iteration-timer.js';
import { LRScheduler } from '../../src/hooks/lr-scheduler.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { cosineLR } from '../../src/schedules/lr-schedule.js';
import { memoryLogger } from '../../src/util/logger.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const STEPS = arg('steps', 5000);
const REPEATS = arg('repeats', 5);

tf.env().set('PROD', true);
await tf.setBackend('cpu');
const dir = mkdtempSync(join(tmpdir(), 'bench-loop-'));

function* nothing(): Generator<null> {
  for (;;) yield null;
}

const FROM = Math.floor(STEPS / 5);

function handWritten(w: tf.Variable, opt: tf.Optimizer): number {
  let t0 = performance.now();
  for (let i = 0; i < STEPS; i++) {
    if (i === FROM) t0 = performance.now();
    const { value, grads } = tf.tidy(() => tf.variableGrads(() => w.square() as tf.Scalar, [w]));
    opt.applyGradients(grads);
    value.dataSync();
    value.dispose();
    tf.dispose(grads);
  }
  return ((performance.now() - t0) * 1000) / (STEPS - FROM);
}

let startup = 0;

async function trainer(w: tf.Variable, opt: tf.Optimizer, withHooks: boolean, rep: number): Promise<number> {
  const t = new SimpleTrainer<null>({ loss: () => w.square() as tf.Scalar, variables: [w] }, nothing(), opt, {
    disposeBatches: false,
    log: withHooks ? join(dir, `c${rep}.sqlite`) : null,
  });
  if (withHooks) {
    t.register(
      new IterationTimer(3, { logger: memoryLogger() }),
      new LRScheduler(cosineLR(0.001, STEPS)),
      new PeriodicWriter([new JSONWriter(join(dir, `c${rep}.json`))], 20),
    );
  }
  let from = 0;
  const begin = performance.now();
  // Registered last: its beforeStep runs after the other hooks' (it only reads the clock).
  t.register(new CallbackHook({ beforeStep: (tr) => { if (tr.iter === FROM) from = performance.now(); } }));
  await t.train(0, STEPS);
  const end = performance.now();
  if (withHooks) startup = Math.max(startup, from - begin - (FROM * (end - from)) / (STEPS - FROM));
  t.dispose();
  return ((end - from) * 1000) / (STEPS - FROM);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const a: number[] = [];
const b: number[] = [];
const c: number[] = [];
const w = tf.variable(tf.scalar(1));
const opt = tf.train.sgd(1e-6);
// Warm-up: JIT, kernel registration, the first SQLite file.
handWritten(w, opt);
await trainer(w, opt, true, -1);
for (let r = 0; r < REPEATS; r++) {
  a.push(handWritten(w, opt));
  b.push(await trainer(w, opt, false, r));
  c.push(await trainer(w, opt, true, r));
}
rmSync(dir, { recursive: true, force: true });
const [ma, mb, mc] = [median(a), median(b), median(c)];
console.log(`no-op 1-weight model, cpu backend, ${STEPS} steps × ${REPEATS} repeats (median; steady state from step ${FROM}), tfjs ${tf.version.tfjs}, node ${process.version}`);
console.log(`(a) hand-written tfjs loop                  ${ma.toFixed(2)} µs/step`);
console.log(`(b) SimpleTrainer, no hooks                 ${mb.toFixed(2)} µs/step   (b − a = ${(mb - ma).toFixed(2)} µs)`);
console.log(`(c) + timer, LR schedule, JSON writer, log  ${mc.toFixed(2)} µs/step   (c − a = ${(mc - ma).toFixed(2)} µs; target ≤ 10)`);
console.log(`ratios: b/a ${(mb / ma).toFixed(3)}, c/a ${(mc / ma).toFixed(3)}; one-time startup of (c) (log + writer thread): ${startup.toFixed(0)} ms`);
