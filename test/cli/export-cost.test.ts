import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { LogFile } from '../../src/log/log-file.js';
import { exportRun } from '../../src/cli/export-run.js';
import { tempDir } from '../helpers.js';
import { bigRun } from './big-log.js';

/** `log` whose batch reads count the batches they hand out into `read.batches`. */
function countingReads(log: LogFile): { batches: number } {
  const read = { batches: 0 };
  const pages = log.batchPages.bind(log);
  log.batchPages = function* (...args: Parameters<LogFile['batchPages']>) {
    for (const page of pages(...args)) {
      read.batches += page.count;
      yield page;
    }
  };
  return read;
}

test('an export reads each batch of the log twice: once for its write points, once to replay', async () => {
  const dir = tempDir();
  await bigRun(join(dir, 'big.sqlite'), 400, (it, k) => it + k);
  const log = LogFile.open(join(dir, 'big.sqlite'), { readonly: true });
  const batches = [...log.batches(1)].length;
  const read = countingReads(log);
  exportRun(log, 1, { json: join(dir, 'm.json'), csv: join(dir, 'm.csv'), tensorboard: join(dir, 'tb') });
  log.close();
  assert.equal(read.batches, 2 * batches);
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
