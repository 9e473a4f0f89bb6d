import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tf } from '../tf-setup.js';
import { runMnistDemo, type MnistDemoResult } from '../../src/demo/run-mnist-demo.js';
import { runCli, describeState } from '../../src/cli/main.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { memoryLogger } from '../../src/util/logger.js';
import { tempDir } from '../helpers.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const hashLog = (path: string) =>
  [path, `${path}-wal`].filter(existsSync).map((p) => createHash('sha256').update(readFileSync(p)).digest('hex')).join();

const dir = tempDir();
let demo: MnistDemoResult;
let other: MnistDemoResult;

before(async () => {
  const common = { steps: 30, evalPeriod: 10, checkpointPeriod: 10, progress: false, logger: memoryLogger(), backend: 'cpu' as const, seed: 3 };
  demo = await runMnistDemo({ ...common, out: join(dir, 'a') });
  other = await runMnistDemo({ ...common, out: join(dir, 'b'), lr: 5e-3 });
});

test('runs lists the demo run with its status, iterations and smoothed loss', async () => {
  const r = await cli('runs', demo.logPath);
  assert.equal(r.code, 0);
  assert.match(r.out, /\b1\s+│ demo\s+│ completed\s+│ 30\/30/);
  const json = JSON.parse((await cli('runs', demo.logPath, '--format', 'json')).out) as Array<{ status: string; iterations: number; lastLoss: number }>;
  assert.equal(json[0]!.status, 'completed');
  assert.equal(json[0]!.iterations, 30);
  assert.ok(json[0]!.lastLoss > 0);
});

test('replay regenerates metrics.json byte for byte, plus CSV and TensorBoard files', async () => {
  const out = join(dir, 'replayed');
  const r = await cli('replay', demo.logPath, '--json', join(out, 'm.json'), '--csv', join(out, 'm.csv'), '--tensorboard', join(out, 'tb'));
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readFileSync(join(out, 'm.json')), readFileSync(demo.liveMetrics));
  assert.match(readFileSync(join(out, 'm.csv'), 'utf8'), /^iteration,name,value,wall_time\n0,/);
  assert.ok(readFileSync(join(out, 'tb', 'demo', 'events.out.tfevents.trainledger')).length > 100);
});

test('show at iteration N equals the state the live run had after step N', async () => {
  const path = join(tempDir(), 'live.sqlite');
  const w = tf.variable(tf.scalar(0.3));
  function* data() { for (let i = 0; ; i++) yield i; }
  const trainer = new SimpleTrainer<number>({ loss: (i) => w.sub(i % 5).square().mean() as tf.Scalar, variables: [w] }, data(), tf.train.sgd(0.05), { log: path });
  let atN: unknown = null;
  trainer.register(
    new PeriodicWriter([new JSONWriter(join(tempDir(), 'x.json'))], 7),
    new CallbackHook({ beforeStep: (t) => { if (t.iter === 13) atN = describeState(t.storage.state); } }),
  );
  await trainer.train(0, 25);
  const r = await cli('show', path, '--iter', '12', '--format', 'json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), JSON.parse(JSON.stringify(atN, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))));
  w.dispose();
});

test('diff finds no divergence between a log and itself, and the first diverging iteration against another learning rate', async () => {
  const same = await cli('diff', demo.logPath, demo.logPath);
  assert.equal(same.code, 0);
  assert.match(same.out, /^no divergence: \d+ metrics agree at 31 iterations/);
  const d = await cli('diff', demo.logPath, other.logPath);
  assert.equal(d.code, 1);
  // The learning rate itself differs from iteration 0 on.
  assert.match(d.out, /^first divergence at iteration 0: lr 2e-06 vs 5e-06/);
  // Same seed, init and data: iteration 0 computes the same loss; the different update shows at 1.
  const loss = await cli('diff', demo.logPath, other.logPath, '--metric', 'total_loss');
  assert.match(loss.out, /^first divergence at iteration 1: total_loss /);
});

test('tail follows a run written by a live trainer and exits when it ends', async () => {
  const path = join(tempDir(), 'tail.sqlite');
  const w = tf.variable(tf.scalar(0.3));
  function* data() { for (let i = 0; ; i++) yield i; }
  const trainer = new SimpleTrainer<number>({ loss: () => w.square() as tf.Scalar, variables: [w] }, data(), tf.train.sgd(0.05), { log: path });
  trainer.register(
    new PeriodicWriter([new JSONWriter(join(tempDir(), 't.json'))], 50),
    new CallbackHook({ afterStep: () => { const end = performance.now() + 1; while (performance.now() < end); } }),
  );
  const training = trainer.train(0, 400);
  await new Promise((r) => setTimeout(r, 150));
  const tailed = await cli('tail', path, '--interval', '20');
  await training;
  assert.equal(tailed.code, 0, tailed.err);
  assert.match(tailed.out, /iter: \d+ /);
  assert.match(tailed.out, /run 1 completed at iteration 400$/);
  w.dispose();
});

test('plot writes SVG and PNG charts of the chosen metrics', async () => {
  const svg = join(dir, 'p.svg');
  const r = await cli('plot', demo.logPath, '--metric', 'total_loss', 'test/accuracy', '--out', svg);
  assert.equal(r.code, 0, r.err);
  const text = readFileSync(svg, 'utf8');
  assert.match(text, /<svg/);
  assert.match(text, /test\/accuracy/);
  const png = join(dir, 'p.png');
  assert.equal((await cli('plot', demo.logPath, '--metric', 'total_loss', '--out', png)).code, 0);
  assert.equal(readFileSync(png).subarray(1, 4).toString(), 'PNG');
});

test('bad arguments get a one-line error and a non-zero exit', async () => {
  const junk = join(dir, 'junk.sqlite');
  writeFileSync(junk, 'not a database, clearly'.repeat(20));
  const cases: Array<[string[], RegExp]> = [
    [['runs', join(dir, 'missing.sqlite')], /does not exist/],
    [['runs', junk], /not a trainledger log/],
    [['show', demo.logPath, '--run', '42'], /has no run "42"/],
    [['show', demo.logPath, '--iter', '9999'], /has no iteration 9999/],
    [['show', demo.logPath, '--iter', 'abc'], /--iter expects a non-negative integer/],
    [['plot', demo.logPath, '--metric', 'total_loss', '--out', 'x.gif'], /must end in .svg or .png/],
    [['replay', demo.logPath], /at least one of --json/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(...argv);
    assert.notEqual(r.code, 0, argv.join(' '));
    assert.match(r.err, message, argv.join(' '));
    assert.equal(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
  }
});

test('no command writes to the log', async () => {
  const before = hashLog(demo.logPath);
  await cli('runs', demo.logPath);
  await cli('show', demo.logPath, '--iter', '5');
  await cli('replay', demo.logPath, '--json', join(dir, 'again.json'));
  await cli('diff', demo.logPath, other.logPath);
  await cli('plot', demo.logPath, '--metric', 'total_loss', '--out', join(dir, 'again.svg'));
  await cli('tail', demo.logPath, '--interval', '10');
  assert.equal(hashLog(demo.logPath), before);
});
