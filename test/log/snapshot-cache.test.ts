import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { decodeBlockValues } from '../../src/log/snapshot-block-codec.js';
import { SnapshotCache } from '../../src/log/snapshot-cache.js';
import { PAGE_CACHE_KIB, openSnapshotDatabase } from '../../src/log/snapshot-database.js';
import { BLOCK } from '../../src/log/snapshot-blocks.js';
import { event } from '../../src/events/train-event.js';
import { tempDir } from '../helpers.js';
import { view } from '../state-view.js';

async function logOf(path: string, steps: number): Promise<LogFile> {
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  for (let i = 0; i < steps; i++) {
    w.scalar('loss', true, i, Math.cos(i));
    w.step(i, i);
  }
  await w.close();
  return log;
}

test('a SQLite file of someone else at the cache path is left untouched, and reads go uncached', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = await logOf(path, 50);
  const theirs = new Database(`${path}.snapshots`);
  theirs.exec("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me')");
  theirs.close();
  const before = readFileSync(`${path}.snapshots`);
  assert.equal(SnapshotCache.open(log, { interval: 10 }), null);
  assert.deepEqual(readFileSync(`${path}.snapshots`), before);
  log.close();
});

test('a damaged cache block is never read: the state comes from the log instead', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = await logOf(path, 100);
  const cache = SnapshotCache.open(log, { interval: 10 })!;
  replayRun(log, 1, { cache });
  cache.close();
  // A flipped bit in a stored sample, as a crash of the unsynced cache or a bad disk leaves it.
  const db = new Database(`${path}.snapshots`);
  const blocks = db.prepare('SELECT id, vals FROM blocks').raw().all() as Array<[number, Buffer]>;
  assert.ok(blocks.length > 0);
  const update = db.prepare('UPDATE blocks SET vals = ? WHERE id = ?');
  for (const [id, vals] of blocks) {
    vals[0]! ^= 0x40;
    update.run(vals, id);
  }
  db.close();
  const again = SnapshotCache.open(log, { interval: 10 })!;
  assert.deepStrictEqual(view(replayRun(log, 1, { untilIter: 77, cache: again }).state), view(replayRun(log, 1, { untilIter: 77 }).state));
  again.close();
  log.close();
});

test('readers building the cache at the same time all succeed with the same state', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.sqlite');
  (await logOf(path, 10_000)).close();
  const child = join(dir, 'reader.mts');
  writeFileSync(
    child,
    `import { LogFile } from ${JSON.stringify(new URL('../../src/log/log-file.ts', import.meta.url).pathname)};
     import { replayRun } from ${JSON.stringify(new URL('../../src/log/replay.ts', import.meta.url).pathname)};
     import { SnapshotCache } from ${JSON.stringify(new URL('../../src/log/snapshot-cache.ts', import.meta.url).pathname)};
     const log = LogFile.open(process.argv[2], { readonly: true });
     const cache = SnapshotCache.open(log, { interval: 20 });
     const h = replayRun(log, 1, { cache }).state.metrics.histories[0];
     process.stdout.write(String(h.count) + ' ' + String(h.latest()?.[0]) + ' ' + String(cache !== null));`,
  );
  const run = (): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', child, path]);
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += String(d)));
      p.stderr.on('data', (d) => (err += String(d)));
      p.on('exit', (code) => resolve({ code, out, err }));
    });
  const results = await Promise.all([run(), run(), run(), run()]);
  const expected = `10000 ${Math.cos(9_999)}`;
  // A reader that waits too long for the cache goes on without it (never fails): the state is what counts.
  assert.deepEqual(results.map((r) => [r.code, r.out.replace(/ (true|false)$/, ''), r.err]), results.map(() => [0, expected, '']));
  assert.ok(results.some((r) => r.out.endsWith(' true')), 'at least one reader built the cache');
});

test('a state served from a snapshot keeps the step times a full replay keeps (maxLength)', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  const host = { hostname: 'h', platform: 'p', node: 'n', pid: 1 };
  w.event(event('run-started', { name: 'r', config: null, startIter: 0, maxIter: 2000, historyMaxLength: 500, wallTime: 0, host }));
  for (let i = 0; i < 2000; i++) {
    w.scalar('loss', true, i, i);
    w.step(i, i);
  }
  await w.close();
  const cache = SnapshotCache.open(log, { interval: 100 })!;
  replayRun(log, 1, { cache });
  const cached = replayRun(log, 1, { untilIter: 1899, cache }).state;
  const plain = replayRun(log, 1, { untilIter: 1899 }).state;
  cache.close();
  log.close();
  assert.equal(plain.stepTimes.length, 500);
  assert.deepStrictEqual(view(cached), view(plain));
});

test('a cache connection keeps a small page cache and maps no file, so building a cache does not double the memory of a replay', () => {
  const db = openSnapshotDatabase(join(tempDir(), 'a.sqlite.snapshots'), 'log')!;
  const settings = [db.pragma('cache_size', { simple: true }), db.pragma('mmap_size', { simple: true })];
  db.close();
  assert.deepEqual(settings, [-PAGE_CACHE_KIB, 0]);
  assert.ok(PAGE_CACHE_KIB * 1024 <= 2 * 1024 * 1024, `page cache of ${PAGE_CACHE_KIB} KiB`);
});

test('a run logging its metric every step stores each sample in the cache once, at the default interval', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const steps = 3 * BLOCK + 100;
  const log = await logOf(path, steps);
  const cache = SnapshotCache.open(log)!;
  const full = replayRun(log, 1, { cache }).state;
  const cached = replayRun(log, 1, { cache }).state;
  cache.close();
  log.close();
  const db = new Database(`${path}.snapshots`, { readonly: true });
  const rows = db.prepare('SELECT series, block, vals FROM blocks ORDER BY series, block').raw().all() as [number, number, Buffer][];
  const stored = rows.map(([series, block, vals]) => [series, block, decodeBlockValues(vals).length]);
  db.close();
  // loss (series 0) and the step times, three whole blocks each; the 100 samples after the last
  // snapshot are replayed from the log.
  const whole = [0, 1, 2].map((b) => [b, BLOCK]);
  assert.deepEqual(stored, [...whole.map(([b, n]) => [-1, b, n]), ...whole.map(([b, n]) => [0, b, n])]);
  assert.deepStrictEqual(view(cached), view(full));
});

test('a replay of a few metrics starts from the cache, loading only their series, and equals the same replay without it', async () => {
  const path = join(tempDir(), 'few.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'few' });
  for (let i = 0; i < 3 * BLOCK + 77; i++) {
    w.scalar('loss', true, i, Math.cos(i));
    w.scalar('lr', false, i, 0.1);
    if (i >= BLOCK + 3) w.scalar('late', true, i, -i);
    w.step(i, i);
  }
  await w.close();
  const cache = SnapshotCache.open(log)!;
  const snapshots = (): unknown[] => {
    const db = new Database(`${path}.snapshots`, { readonly: true });
    const iters = db.prepare('SELECT iter FROM snapshots ORDER BY seq').pluck().all();
    db.close();
    return iters;
  };
  // A filtered replay offers nothing: its state is not a snapshot.
  replayRun(log, 1, { metrics: ['loss'], cache });
  assert.deepEqual(snapshots(), []);
  replayRun(log, 1, { cache });
  assert.deepEqual(snapshots(), [BLOCK, 2 * BLOCK, 3 * BLOCK]);
  for (const metrics of [['loss'], ['late', 'missing'], ['lr', 'loss']]) {
    for (const untilIter of [BLOCK - 1, 2 * BLOCK + 5, undefined]) {
      const expected = view(replayRun(log, 1, { metrics, untilIter }).state);
      assert.deepStrictEqual(view(replayRun(log, 1, { metrics, untilIter, cache }).state), expected, `${metrics.join(',')} until ${untilIter}`);
    }
  }
  assert.deepEqual(snapshots(), [BLOCK, 2 * BLOCK, 3 * BLOCK]);
  cache.close();
  log.close();
});
