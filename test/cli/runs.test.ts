import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, smallRun } from './cli-harness.js';
import { tempDir } from '../helpers.js';

type Row = { id: number; name: string; status: string; iterations: number; maxIter: number | null };

test('runs shows the iterations against the max iter of the latest (re)start after a resume with a larger max iter', async () => {
  const d = tempDir();
  const log = join(d, 'log.sqlite');
  const ckpt = join(d, 'ckpt');
  await smallRun(log, { steps: 10, name: 'grow', json: join(d, 'm.json'), checkpoints: ckpt, checkpointPeriod: 5 });
  const first = JSON.parse((await cli('runs', log, '--format', 'json')).out) as Row[];
  assert.deepEqual(first.map((r) => [r.status, r.iterations, r.maxIter]), [['completed', 10, 10]]);
  // Resumed from its final checkpoint and trained on to 25.
  await smallRun(log, { steps: 25, name: 'grow', json: join(d, 'm.json'), checkpoints: ckpt, checkpointPeriod: 5, resume: true });
  const resumed = JSON.parse((await cli('runs', log, '--format', 'json')).out) as Row[];
  assert.deepEqual(resumed.map((r) => [r.id, r.status, r.iterations, r.maxIter]), [[1, 'completed', 25, 25]]);
  assert.match((await cli('runs', log)).out, /│ completed\s+│ 25\/25 /);
});

test('runs shows no max iter for a resumed run that ended before it, since the log does not say which it was', async () => {
  const d = tempDir();
  const log = join(d, 'log.sqlite');
  const ckpt = join(d, 'ckpt');
  await smallRun(log, { steps: 10, name: 'grow', json: join(d, 'm.json'), checkpoints: ckpt, checkpointPeriod: 5 });
  await assert.rejects(smallRun(log, { steps: 40, name: 'grow', json: join(d, 'm.json'), checkpoints: ckpt, checkpointPeriod: 5, resume: true, failAt: 17 }), /simulated failure/);
  const rows = JSON.parse((await cli('runs', log, '--format', 'json')).out) as Row[];
  assert.deepEqual(rows.map((r) => [r.status, r.iterations, r.maxIter]), [['failed', 17, null]]);
  assert.match((await cli('runs', log)).out, /│ failed: hook CallbackHook failed in afterStep at │ 17\s+│/);
});
