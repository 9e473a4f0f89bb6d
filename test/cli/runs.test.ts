import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cli, smallRun } from './cli-harness.js';
import { hostname } from 'node:os';
import { tempDir } from '../helpers.js';
import { tf } from '../tf-setup.js';

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

test('runs shows each run\'s config in brief (key count and a hash equal for equal configs) and its host; show prints the config whole with the host and code', async () => {
  const d = tempDir();
  const log = join(d, 'log.sqlite');
  await smallRun(log, { steps: 3, name: 'a', json: join(d, 'a.json'), config: { lr: 0.05, opt: { momentum: 0.9, nesterov: true } } });
  await smallRun(log, { steps: 3, name: 'b', json: join(d, 'b.json'), config: { opt: { nesterov: true, momentum: 0.9 }, lr: 0.05 } });
  await smallRun(log, { steps: 3, name: 'c', json: join(d, 'c.json'), config: { lr: 0.1, opt: { momentum: 0.9, nesterov: true } } });
  await smallRun(log, { steps: 3, name: 'none', json: join(d, 'n.json') });
  const rows = JSON.parse((await cli('runs', log, '--format', 'json')).out) as Array<Row & { config: { keys: number; hash: string } | null; host: { hostname: string; node: string; tfjs?: string } | null }>;
  const [a, b, c, none] = rows;
  assert.deepEqual([a!.config!.keys, b!.config!.keys, c!.config!.keys, none!.config], [3, 3, 3, null]);
  // Key order does not matter; a value does.
  assert.deepEqual([a!.config!.hash === b!.config!.hash, a!.config!.hash === c!.config!.hash, /^[0-9a-f]{8}$/.test(a!.config!.hash)], [true, false, true]);
  assert.deepEqual(rows.map((r) => [r.host?.hostname, r.host?.node, r.host?.tfjs]), rows.map(() => [hostname(), process.version, tf.version.tfjs]));
  const table = (await cli('runs', log)).out;
  assert.match(table, new RegExp(`│ a +│ .*│ 3 keys ${a!.config!.hash} │ ${hostname()} +│`));
  assert.match(table, new RegExp(`│ none +│ .*│ - +│ ${hostname()} +│`));

  const shown = await cli('show', log, '--run', 'a');
  assert.equal(shown.code, 0, shown.err);
  assert.deepEqual(shown.out.split('\n').slice(0, 6), [
    'run 1 after iteration 2 (status completed)',
    `config (3 keys ${a!.config!.hash}):`,
    '  lr            0.05',
    '  opt.momentum  0.9',
    '  opt.nesterov  true',
    `host: ${hostname()} (${process.platform}-${process.arch}, node ${process.version}, pid ${process.pid}); tfjs ${tf.version.tfjs} on cpu`,
  ]);
  assert.deepEqual((await cli('show', log, '--run', 'none')).out.split('\n').slice(1, 3), ['config: none recorded', `host: ${hostname()} (${process.platform}-${process.arch}, node ${process.version}, pid ${process.pid}); tfjs ${tf.version.tfjs} on cpu`]);
  const json = JSON.parse((await cli('show', log, '--run', 'a', '--format', 'json')).out) as { config: unknown; host: { pid: number } };
  assert.deepEqual([json.config, json.host.pid], [{ lr: 0.05, opt: { momentum: 0.9, nesterov: true } }, process.pid]);
});
