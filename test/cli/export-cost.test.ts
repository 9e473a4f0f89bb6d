import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { LogFile } from '../../src/log/log-file.js';
import { exportRun } from '../../src/cli/export-run.js';
import { decodeBatch } from '../../src/log/batch-codec.js';
import { tempDir } from '../helpers.js';
import { bigRun } from './big-log.js';

/** `log` whose batch reads count the batches they hand out: by pages, and found by their bytes. */
function countingReads(log: LogFile): { batches: number; holding: number } {
  const read = { batches: 0, holding: 0 };
  const pages = log.batchPages.bind(log);
  log.batchPages = function* (...args: Parameters<LogFile['batchPages']>) {
    for (const page of pages(...args)) {
      read.batches += page.count;
      yield page;
    }
  };
  const holding = log.batchesHolding.bind(log);
  log.batchesHolding = (...args: Parameters<LogFile['batchesHolding']>) => {
    const found = holding(...args);
    read.holding += found.length;
    return found;
  };
  return read;
}

test('an export decodes each batch of the log once, and before that only the batches holding a write point', async () => {
  const dir = tempDir();
  await bigRun(join(dir, 'big.sqlite'), 400, (it, k) => it + k);
  const log = LogFile.open(join(dir, 'big.sqlite'), { readonly: true });
  const batches = [...log.batches(1)].length;
  const names = log.names(1);
  const withCursor = [...log.batches(1)].filter((b) => decodeBatch(b.body, names).some((e) => e.type === 'writer-cursor')).length;
  assert.ok(withCursor > 0 && withCursor * 10 < batches, `${withCursor} of ${batches} batches hold a cursor`);
  const read = countingReads(log);
  exportRun(log, 1, { json: join(dir, 'm.json'), csv: join(dir, 'm.csv'), tensorboard: join(dir, 'tb') });
  log.close();
  assert.deepEqual(read, { batches, holding: withCursor });
});

test('a TensorBoard export syncs its event file once, when it is whole, not at every write point', async () => {
  const dir = tempDir();
  await bigRun(join(dir, 'big.sqlite'), 400, (it, k) => it + k);
  const log = LogFile.open(join(dir, 'big.sqlite'), { readonly: true });
  const fsyncSync = fs.fsyncSync;
  let syncs = 0;
  fs.fsyncSync = (fd) => {
    syncs++;
    fsyncSync(fd);
  };
  // Named imports of node:fs see the counting fsyncSync from here on.
  syncBuiltinESMExports();
  try {
    exportRun(log, 1, { tensorboard: join(dir, 'tb') });
  } finally {
    fs.fsyncSync = fsyncSync;
    syncBuiltinESMExports();
    log.close();
  }
  // 20 write points: one sync each before.
  assert.equal(syncs, 1);
  assert.ok(fs.statSync(join(dir, 'tb', 'big', 'events.out.tfevents.trainledger')).size > 400 / 20 * 10 * 8);
});
