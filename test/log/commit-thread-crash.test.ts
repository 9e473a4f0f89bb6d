import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LogFile } from '../../src/log/log-file.js';
import { tempDir } from '../helpers.js';

test('a commit thread that crashes fails the next steps with LogWriteError saying why, even while the training thread never yields', { timeout: 60_000 }, async () => {
  const log = LogFile.open(join(tempDir(), 'crash.sqlite'));
  // A 64 KiB ring fills in a few hundred steps: the appender then waits for room on the thread.
  const w = log.createRun(
    { name: 'c' },
    { ringBytes: 64 << 10, observer: { module: new URL('./exploding-observer.ts', import.meta.url).href, exportName: 'explodingObserver', args: null } },
  );
  let failure: unknown;
  // Synchronous throughout: the worker's 'error' event cannot reach this thread.
  for (let i = 0; i < 1_000_000 && failure === undefined; i++) {
    try {
      for (let k = 0; k < 10; k++) w.scalar(`m${k}`, true, i, i);
      w.step(i, i);
    } catch (e) {
      failure = e;
    }
  }
  assert.equal((failure as { code?: string }).code, 'ERR_LOG_WRITE');
  assert.match((failure as Error).message, /log commit thread crashed: observer exploded/);
  await assert.rejects(w.close(), (e: unknown) => (e as { code?: string }).code === 'ERR_LOG_WRITE');
  log.close();
});
