import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { closeSync, copyFileSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { tempDir } from '../helpers.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

async function writeSteps(log: LogFile, name: string, steps: number): Promise<void> {
  const w = log.createRun({ name });
  for (let i = 0; i < steps; i++) {
    w.scalar('loss', true, i, i / 2);
    w.step(i, 1000 + i);
  }
  await w.close();
}

/**
 * Writes the newest committed WAL copy of page 1 over the main file's page 1, as a checkpoint
 * cut short after its first page leaves it: the header then counts pages only the WAL holds.
 */
function backfillPageOne(path: string): void {
  const wal = readFileSync(`${path}-wal`);
  const pageSize = wal.readUInt32BE(8);
  let latest: Buffer | null = null;
  let pending: Buffer | null = null;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    const pageNo = wal.readUInt32BE(at);
    const commitSize = wal.readUInt32BE(at + 4);
    if (pageNo === 1) pending = wal.subarray(at + 24, at + 24 + pageSize);
    if (commitSize > 0 && pending !== null) latest = pending;
  }
  assert.ok(latest !== null, 'the WAL holds page 1');
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, latest, 0, latest.length, 0);
  } finally {
    closeSync(fd);
  }
}

function headerPages(path: string): number {
  const fd = openSync(path, 'r');
  const header = Buffer.alloc(100);
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  return header.readUInt32BE(28);
}

test('a log whose main file is shorter than its header says, with the pages in the WAL, opens, reads and resumes', async () => {
  const dir = tempDir();
  const live = join(dir, 'live.sqlite');
  const log = LogFile.open(live);
  // A held reader keeps the WAL from being folded back, as a cut-short checkpoint would.
  const pin = new Database(live, { readonly: true });
  pin.prepare('BEGIN').run();
  pin.prepare('SELECT count(*) FROM runs').get();
  await writeSteps(log, 'r', 3000);
  // Copy the files as a crash leaves them, then cut the checkpoint short after page 1.
  const path = join(dir, 'copy.sqlite');
  copyFileSync(live, path);
  copyFileSync(`${live}-wal`, `${path}-wal`);
  pin.prepare('COMMIT').run();
  pin.close();
  log.close();
  backfillPageOne(path);
  const pageSize = 4096;
  assert.ok(headerPages(path) * pageSize > statSync(path).size, 'the header claims pages the main file lacks');
  const check = new Database(path, { readonly: true });
  assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
  check.close();

  const reader = LogFile.open(path, { readonly: true });
  assert.deepEqual(reader.runs().map((r) => r.name), ['r']);
  const values = replayRun(reader, 1).state.metrics.histories[0]!.values();
  assert.deepEqual(values.map((v) => v[1]), Array.from({ length: 3000 }, (_, i) => i));
  reader.close();

  const writer = LogFile.open(path);
  const w = writer.appendToRun(1);
  w.scalar('loss', true, 3000, 1500);
  w.step(3000, 4000);
  await w.close();
  assert.equal(writer.lastSeq(1), 3000);
  writer.close();
});

test('an empty file is refused as empty, not called a SQLite database', () => {
  const path = join(tempDir(), 'empty.sqlite');
  writeFileSync(path, '');
  assert.throws(
    () => LogFile.open(path, { readonly: true }),
    (e: unknown) => code('ERR_NOT_A_LOG')(e) && /empty file \(0 bytes\)/.test((e as Error).message) && !/is a SQLite database/.test((e as Error).message),
  );
  assert.equal(statSync(path).size, 0, 'the reader left the file as it was');
});

test('a run whose name is digits is chosen with name:, and id: chooses by id', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  await writeSteps(log, 'first', 1);
  await writeSteps(log, '1', 1);
  assert.equal(log.run('1').id, 1);
  assert.equal(log.run('name:1').id, 2);
  assert.equal(log.run('id:2').name, '1');
  assert.equal(log.run('name:first').id, 1);
  assert.throws(() => log.run('name:2'), (e: unknown) => code('ERR_UNKNOWN_RUN')(e) && /name:NAME/.test((e as Error).message));
  assert.throws(() => log.run('id:x'), code('ERR_UNKNOWN_RUN'));
  log.close();
});

test('many small commits keep the WAL bounded and reach the database file while the run goes on', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  // A small WAL bound keeps the test quick; the default bound works the same way at 16 MiB.
  const w = log.createRun({ name: 'r' }, { walMaxBytes: 256 << 10 });
  let maxWal = 0;
  for (let i = 0; i < 4000; i++) {
    w.scalar('loss', true, i, i);
    w.step(i, i);
    // One commit per step, as a loop of slow steps makes them.
    w.flushSync();
    if (i % 50 === 0) maxWal = Math.max(maxWal, statSync(`${path}-wal`).size);
  }
  // Before close: the commits are in the database file, not only in the WAL.
  const mainBeforeClose = statSync(path).size;
  await w.close();
  log.close();
  // A commit may land between a checkpoint and the next, so allow one commit's pages of slack.
  assert.ok(maxWal <= (256 << 10) + 64 * 1024, `the WAL reached ${maxWal} bytes`);
  assert.ok(mainBeforeClose >= 64 * 1024, `the database file held ${mainBeforeClose} bytes while the run was open`);
});

test('a committed step reaches the database file alone (what a power cut leaves) within checkpointEveryMs', async () => {
  const dir = tempDir();
  const path = join(dir, 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' }, { checkpointEveryMs: 100 });
  for (let i = 0; i < 5; i++) {
    w.scalar('loss', true, i, i);
    w.step(i, i);
  }
  await w.flush();
  const inMainFile = (): number => {
    // Only the main file: an unsynced WAL is what a power cut takes back.
    const copy = join(dir, `main-only-${Math.random()}.sqlite`);
    copyFileSync(path, copy);
    const db = new Database(copy, { readonly: true });
    try {
      // Until a first checkpoint even the schema lives only in the WAL.
      const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'batches'").get() !== undefined;
      return hasTable ? (db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n : 0;
    } finally {
      db.close();
    }
  };
  let n = inMainFile();
  for (let waited = 0; n < 5 && waited < 3000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
    n = inMainFile();
  }
  assert.equal(n, 5);
  await w.close();
  log.close();
});

test('a log in a read-only folder is read whole, whether closed cleanly, killed, or without its -shm', async () => {
  const { execFileSync, spawnSync } = await import('node:child_process');
  const { mkdirSync, readdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const src = tempDir();
  const mnt = join(src, 'ro');
  const cases = ['clean', 'killed', 'no-shm'];
  for (const c of cases) mkdirSync(join(src, c));
  const clean = LogFile.open(join(src, 'clean', 'a.sqlite'));
  await writeSteps(clean, 'r', 50);
  clean.close();
  // A killed writer leaves its -wal and -shm: a child process writes 50 steps and is killed.
  const child = `
    import { LogFile } from ${JSON.stringify(new URL('../../src/log/log-file.ts', import.meta.url).pathname)};
    const log = LogFile.open(process.argv[2]);
    const w = log.createRun({ name: 'r' });
    for (let i = 0; i < 50; i++) { w.scalar('loss', true, i, i / 2); w.step(i, 1000 + i); }
    await w.flush();
    process.kill(process.pid, 'SIGKILL');`;
  const childFile = join(src, 'child.mts');
  writeFileSync(childFile, child);
  const ran = spawnSync(process.execPath, ['--import', 'tsx', childFile, join(src, 'killed', 'a.sqlite')], { encoding: 'utf8' });
  assert.equal(ran.signal, 'SIGKILL', ran.stderr);
  assert.ok(readdirSync(join(src, 'killed')).includes('a.sqlite-wal'), 'the killed writer left its WAL');
  for (const f of ['a.sqlite', 'a.sqlite-wal']) copyFileSync(join(src, 'killed', f), join(src, 'no-shm', f));

  mkdirSync(mnt);
  execFileSync('mount', ['--bind', src, mnt]);
  const copiesBefore = readdirSync(tmpdir()).filter((f) => f.startsWith('trainledger-readonly-')).length;
  try {
    execFileSync('mount', ['-o', 'remount,ro,bind', mnt]);
    for (const c of cases) {
      const reader = LogFile.open(join(mnt, c, 'a.sqlite'), { readonly: true });
      const values = replayRun(reader, 1).state.metrics.histories[0]!.values();
      reader.close();
      assert.deepEqual(values.map((v) => v[0]), Array.from({ length: 50 }, (_, i) => i / 2), c);
    }
  } finally {
    execFileSync('umount', [mnt]);
  }
  assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith('trainledger-readonly-')).length, copiesBefore, 'private copies are removed on close');
});
