/**
 * What the durable log costs a raw tfjs training loop: a 1-weight SGD step on cpu, alone
 * ("none"), with a LogAppender open but unused ("idle"), and writing 2 scalars + a step per
 * iteration ("write"). Prints µs per step for 3 rounds of 10,000 steps.
 *
 *   node --import tsx tools/bench/log-in-loop.ts none|idle|write
 */
import * as tf from '@tensorflow/tfjs';
import { LogFile } from '../../src/log/log-file.js';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
tf.env().set('PROD', true);
await tf.setBackend('cpu');
const w = tf.variable(tf.scalar(1)); const opt = tf.train.sgd(1e-6);
const step = () => { const { value, grads } = tf.tidy(() => tf.variableGrads(() => w.square() as tf.Scalar, [w])); opt.applyGradients(grads); value.dataSync(); value.dispose(); tf.dispose(grads); };
const N = 10000;
const mode = process.argv[2];
let writer: any = null;
if (mode !== 'none') { const log = LogFile.open(join(mkdtempSync('/tmp/tfc-'), 'c.sqlite')); writer = log.createRun({ name: 'c' }); }
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) { step(); if (mode === 'write') { writer.scalar('a', true, i, 1); writer.scalar('b', true, i, 2); writer.step(i, 1); } }
  console.log(mode, ((performance.now() - t0) * 1000 / N).toFixed(1), 'us/step');
}
if (writer) await writer.close();
