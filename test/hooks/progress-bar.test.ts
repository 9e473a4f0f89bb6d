import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar } from '../../src/hooks/progress-bar.js';
import { simpleTrainer } from './hook-harness.js';

test('ProgressBar is off when the stream is not a TTY and draws when it is', async () => {
  const chunks: string[] = [];
  const fake = Object.assign(new (await import('node:stream')).Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }), { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true }) as unknown as NodeJS.WriteStream;
  const { trainer, w } = simpleTrainer();
  trainer.register(new ProgressBar({ stream: fake }));
  await trainer.train(0, 30);
  assert.match(chunks.join(''), /30\/30 iter/);
  assert.equal(new ProgressBar({ stream: { isTTY: false } as NodeJS.WriteStream }).enabled, false);
  w.dispose();
});
