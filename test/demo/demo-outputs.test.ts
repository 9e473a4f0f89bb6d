import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { clearDemoOutputs, markDemoDir } from '../../src/demo/demo-outputs.js';
import { LogFile } from '../../src/log/log-file.js';
import { tempDir } from '../helpers.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('a fresh demo run refuses to delete a folder holding files it did not write, and deletes nothing', () => {
  const out = tempDir();
  mkdirSync(join(out, 'demo'));
  writeFileSync(join(out, 'demo', 'thesis.tex'), 'mine');
  assert.throws(() => clearDemoOutputs(join(out, 'demo.sqlite'), join(out, 'demo')), (e: unknown) => code('ERR_DEMO_OUTPUT_NOT_OURS')(e) && /thesis\.tex/.test((e as Error).message));
  assert.equal(readFileSync(join(out, 'demo', 'thesis.tex'), 'utf8'), 'mine');
});

test('a fresh demo run refuses to delete a file at the log path that is not a trainledger log', () => {
  const out = tempDir();
  writeFileSync(join(out, 'demo.sqlite'), 'not a log at all, but something of the user');
  assert.throws(() => clearDemoOutputs(join(out, 'demo.sqlite'), join(out, 'demo')), code('ERR_DEMO_OUTPUT_NOT_OURS'));
  assert.equal(readFileSync(join(out, 'demo.sqlite'), 'utf8'), 'not a log at all, but something of the user');
});

test('a fresh demo run deletes what an earlier demo run made: its marked folder and its log', async () => {
  const out = tempDir();
  const logPath = join(out, 'demo.sqlite');
  const log = LogFile.open(logPath);
  const w = log.createRun({ name: 'demo' });
  w.step(0, 1);
  await w.close();
  log.close();
  mkdirSync(join(out, 'demo', 'live'), { recursive: true });
  markDemoDir(join(out, 'demo'));
  writeFileSync(join(out, 'demo', 'live', 'metrics.json'), '{}\n');
  clearDemoOutputs(logPath, join(out, 'demo'));
  assert.deepEqual([existsSync(logPath), existsSync(join(out, 'demo'))], [false, false]);
});
