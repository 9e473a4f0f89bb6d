import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { CheckpointStore } from '../../src/checkpoint/index.js';

const fixture = fileURLToPath(new URL('./fixtures/save-forever.ts', import.meta.url));
let root: string;

before(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'trainledger-crash-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

// Starts the saver, waits until it is saving, lets it run for `ms`, then SIGKILLs it.
async function runAndKill(dir: string, ms: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`saver exited early with code ${code}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, ms));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

test('a process killed at arbitrary moments while saving never leaves a listed checkpoint that fails to load', async () => {
  const dir = join(root, 'killed');
  const store = new CheckpointStore(dir);
  for (const ms of [3, 40, 95, 170]) {
    await runAndKill(dir, ms);
    for (const info of store.list()) {
      const target = { w: tf.variable(tf.zeros([256, 256])) };
      const optimizer = tf.train.adam(0.01);
      const { state } = await store.load(info.name, { model: target, optimizer });
      assert.deepEqual(state, { iteration: info.iteration });
      tf.dispose(target.w);
      optimizer.dispose();
    }
    await store.cleanTemp();
    for (const entry of await readdir(dir)) assert.match(entry, /^ckpt-[0-2]$/);
  }
  assert.ok(store.list().length > 0, 'the saver completed at least one checkpoint');
});
