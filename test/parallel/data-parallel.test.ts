import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch } from '../../src/parallel/launch.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { tempDir } from '../helpers.js';

const fixtures = new URL('./rank-fixtures.ts', import.meta.url).href;

test('data-parallel replicas that start from different weights and see different halves of each batch end bit-identical, and train like one replica on the whole batch', { timeout: 120_000 }, async () => {
  const steps = 30;
  const log = join(tempDir(), 'dp.sqlite');
  const two = (await launch({ module: fixtures, exportName: 'trainReplica', args: { steps, worldSize: 2, log, globalBatch: 16 } }, { worldSize: 2 })) as number[][];
  assert.equal(two.length, 2);
  // Bit for bit: the same float32 values, -0 and all.
  assert.deepEqual(new Uint32Array(Float32Array.from(two[1]!).buffer), new Uint32Array(Float32Array.from(two[0]!).buffer));
  // One replica on the whole 16-row batch: the same mathematics, rounded differently.
  const [one] = (await launch({ module: fixtures, exportName: 'trainReplica', args: { steps, worldSize: 1, log: null, globalBatch: 16 } }, { worldSize: 1 })) as number[][];
  two[0]!.forEach((v, i) => assert.ok(Math.abs(v - one![i]!) < 1e-4, `weight ${i}: ${v} with two replicas, ${one![i]} with one`));
  // It trained: the weights moved from rank 0's start (0.1, 0.1, 0.1, 0) toward (1, -2, 0.5, 0.3).
  assert.ok(two[0]![1]! < 0.1 - 0.2, `w1 = ${two[0]![1]}`);
  // Rank 0 logged every step's losses, one run, as a single replica would.
  const reader = LogFile.open(log, { readonly: true });
  const state = replayRun(reader, 1).state;
  reader.close();
  assert.equal(state.iter, steps);
  assert.equal(state.metrics.histories[state.metrics.index.get('total_loss')!]!.count, steps);
});
