import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LogFile } from '../../src/log/log-file.js';
import { LogWriteError } from '../../src/log/errors.js';
import { replayRun } from '../../src/log/replay.js';
import { tempDir } from '../helpers.js';

const integrity = (path: string): string => {
  const db = new Database(path, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
};

test('a full disk (max_page_count) gives LogWriteError and loses nothing committed', async () => {
  const path = join(tempDir(), 'full.sqlite');
  const log = LogFile.open(path);
  const pages = (log.database.pragma('page_count', { simple: true }) as number) + 8;
  const w = log.createRun({ name: 'full' }, { pragmas: [`max_page_count = ${pages}`] });
  let failedAt = -1;
  let committedBefore = -1;
  for (let i = 0; i < 200_000; i++) {
    try {
      w.scalar('loss', true, i, i);
      w.step(i, i);
      if (i % 500 === 0) {
        w.flushSync();
        committedBefore = w.committedSeq;
      }
    } catch (e) {
      assert.ok(e instanceof LogWriteError, String(e));
      assert.match((e as Error).message, /full/);
      failedAt = i;
      break;
    }
  }
  assert.ok(failedAt > 0, 'the writer reported the full disk');
  await assert.rejects(w.close(), LogWriteError);
  assert.equal(integrity(path), 'ok');
  const reader = LogFile.open(path, { readonly: true });
  const { state } = replayRun(reader, 1);
  // Everything flushed before the failure is still there, whole.
  assert.ok(reader.lastSeq(1) + 1 >= committedBefore, `${reader.lastSeq(1) + 1} >= ${committedBefore}`);
  const values = state.metrics.histories[0]!.values();
  assert.deepEqual(values.map((v) => v[0]), values.map((_, i) => i));
  reader.close();
  log.close();
});

test('a log that cannot be written (read-only) is refused with a typed error, not silently dropped', async () => {
  const path = join(tempDir(), 'ro.sqlite');
  const log = LogFile.open(path);
  // Root ignores file modes, so read-only is simulated at the SQLite level.
  const w = log.createRun({ name: 'ro' }, { pragmas: ['query_only = ON'] });
  w.scalar('loss', true, 0, 1);
  w.step(0, 1);
  await assert.rejects(w.close(), (e: unknown) => e instanceof LogWriteError && /readonly|read-only/i.test((e as Error).message));
  const ro = LogFile.open(path, { readonly: true });
  assert.throws(() => ro.createRun({ name: 'x' }), (e: unknown) => (e as { code?: string }).code === 'ERR_LOG_CLOSED');
  ro.close();
  log.close();
});

test('a commit thread that cannot open the log fails ready() and the next step with a typed error', async () => {
  const path = join(tempDir(), 'bad-start.sqlite');
  const log = LogFile.open(path);
  // createRun does not wait for the thread: training starts while it opens the log.
  const w = log.createRun({ name: 'x' }, { pragmas: ['this is not a pragma'] });
  await assert.rejects(w.ready(), (e: unknown) => e instanceof LogWriteError && /cannot open/.test((e as Error).message));
  w.scalar('loss', true, 0, 1);
  assert.throws(() => w.step(0, 1), LogWriteError);
  await assert.rejects(w.close(), LogWriteError);
  log.close();
});
