import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { LogFile } from '../../src/log/log-file.js';
import { LogNotFoundError } from '../../src/log/errors.js';
import { decodeBatch } from '../../src/log/batch-codec.js';
import { latestSchemaVersion } from '../../src/log/migrations.js';
import { tempDir } from '../helpers.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

async function smallLog(path: string, steps = 5): Promise<void> {
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  for (let i = 0; i < steps; i++) {
    w.scalar('loss', true, i, i / 2);
    w.step(i, 1000 + i);
  }
  await w.close();
  log.close();
}

test('a new log gets the latest schema through the numbered migrations', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await smallLog(path);
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), latestSchemaVersion());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
});

test('UPDATE and DELETE on the log are refused by the database itself', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await smallLog(path);
  const db = new Database(path);
  for (const sql of [
    'UPDATE batches SET step_iter = 7',
    'DELETE FROM batches',
    'UPDATE runs SET name = 1',
    'DELETE FROM runs',
    'DELETE FROM metric_names',
    'UPDATE metric_names SET name = 1',
    'DELETE FROM meta',
  ]) {
    assert.throws(() => db.exec(sql), /append-only/, sql);
  }
  assert.equal((db.prepare('SELECT count(*) n FROM batches').get() as { n: number }).n, 5);
  db.close();
});

test('a log from a newer schema is refused with a clear typed error', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await smallLog(path);
  const db = new Database(path);
  db.pragma(`user_version = ${latestSchemaVersion() + 1}`);
  db.close();
  assert.throws(() => LogFile.open(path, { readonly: true }), (e: unknown) => code('ERR_LOG_VERSION')(e) && /upgrade trainledger/.test((e as Error).message));
  assert.throws(() => LogFile.open(path), code('ERR_LOG_VERSION'));
});

test('a file that is not SQLite, a foreign SQLite file and a missing file are typed errors', () => {
  const dir = tempDir();
  const junk = join(dir, 'junk.sqlite');
  writeFileSync(junk, 'hello, this is not a database at all'.repeat(10));
  assert.throws(() => LogFile.open(junk, { readonly: true }), code('ERR_NOT_A_LOG'));
  assert.throws(() => LogFile.open(junk), code('ERR_NOT_A_LOG'));
  const foreign = join(dir, 'foreign.sqlite');
  const db = new Database(foreign);
  db.exec('CREATE TABLE t (x)');
  db.close();
  assert.throws(() => LogFile.open(foreign), (e: unknown) => code('ERR_NOT_A_LOG')(e) && /other tables/.test((e as Error).message));
  assert.throws(() => LogFile.open(foreign, { readonly: true }), code('ERR_NOT_A_LOG'));
  assert.throws(() => LogFile.open(join(dir, 'missing.sqlite'), { readonly: true }), LogNotFoundError);
});

test('a truncated log is reported as corrupt, not silently read', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await smallLog(path, 3000);
  // Fold the WAL into the main file so truncating it cuts real pages.
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const size = statSync(path).size;
  truncateSync(path, Math.floor(size / 2));
  assert.throws(() => LogFile.open(path, { readonly: true }), (e: unknown) => code('ERR_LOG_CORRUPT')(e) && /truncated/.test((e as Error).message));
});

test('NaN, +Inf and -Inf are stored and read back exactly', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  const values = [NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE];
  values.forEach((v, i) => w.scalar(`m${i}`, true, 0, v));
  w.step(0, 1);
  await w.close();
  const [batch] = [...log.batches(1)];
  const events = decodeBatch(batch!.body, log.names(1));
  // deepStrictEqual compares numbers with Object.is: NaN equals NaN, -0 does not equal 0.
  assert.deepStrictEqual(
    events.map((e) => (e.type === 'scalar' ? [e.data.name, e.data.value] : [e.type])),
    [...values.map((v, i) => [`m${i}`, v]), ['step']],
  );
  log.close();
});

test('many runs share one file and keep their own names and batches', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await smallLog(path, 2);
  await smallLog(path, 3);
  const log = LogFile.open(path, { readonly: true });
  assert.deepEqual(log.runs().map((r) => r.id), [1, 2]);
  assert.equal([...log.batches(1)].length, 2);
  assert.equal([...log.batches(2)].length, 3);
  assert.equal(log.run('r').id, 2);
  assert.throws(() => log.run('nope'), code('ERR_UNKNOWN_RUN'));
  log.close();
});

test('a read-only log refuses to create runs', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await smallLog(path, 1);
  const log = LogFile.open(path, { readonly: true });
  assert.throws(() => log.createRun({ name: 'x' }), code('ERR_LOG_CLOSED'));
  log.close();
  assert.ok(readFileSync(path).length > 0);
});

test('every durability mode commits the same batches', async () => {
  const dir = tempDir();
  const bodies: string[][] = [];
  for (const durability of ['step', 'fsync', { groupMs: 20 }] as const) {
    const path = join(dir, `${JSON.stringify(durability).replace(/\W/g, '')}.sqlite`);
    const log = LogFile.open(path);
    const w = log.createRun({ name: 'r' }, { durability });
    for (let i = 0; i < 50; i++) {
      w.scalar('loss', true, i, i);
      w.step(i, 7);
    }
    await w.close();
    bodies.push([...log.batches(1)].map((b) => Buffer.from(b.body).toString('hex')));
    log.close();
  }
  assert.equal(bodies[0]!.length, 50);
  assert.deepEqual(bodies[1], bodies[0]);
  assert.deepEqual(bodies[2], bodies[0]);
});

test('flushSync returns only once everything handed over is committed', () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  for (let i = 0; i < 1000; i++) {
    w.scalar('loss', true, i, i);
    w.step(i, 7);
  }
  w.flushSync();
  const reader = LogFile.open(path, { readonly: true });
  assert.equal(reader.lastSeq(1), 999);
  reader.close();
  return w.close();
});

test('a reader running while the writer appends only ever sees whole steps', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  const reader = LogFile.open(path, { readonly: true });
  // The commit thread starts while appends go on: wait for it, so reads overlap commits.
  await w.ready();
  let checks = 0;
  for (let i = 0; i < 3000; i++) {
    w.scalar('a', true, i, i);
    w.scalar('b', true, i, i);
    w.scalar('c', false, i, i);
    w.step(i, 1);
    if (i % 300 === 0) {
      await new Promise((r) => setTimeout(r, 2));
      const batches = [...reader.batches(1)];
      // Names are committed with the batch that first uses them: read them after the batches.
      const names = reader.names(1);
      for (const b of batches) {
        const ev = decodeBatch(b.body, names);
        assert.deepEqual(ev.map((e) => e.type), ['scalar', 'scalar', 'scalar', 'step']);
        checks++;
      }
    }
  }
  await w.close();
  assert.ok(checks > 0);
  assert.equal([...reader.batches(1)].length, 3000);
  reader.close();
});

test('a small ring that wraps many times delivers every batch, new name and event intact', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' }, { ringBytes: 16 << 10 });
  const expected: string[] = [];
  for (let i = 0; i < 3000; i++) {
    // 1..12 scalars a step, names appearing along the run, a JSON event now and then.
    for (let k = 0; k <= i % 12; k++) {
      const name = `m${(i * 7 + k) % (10 + Math.floor(i / 20))}`;
      w.scalar(name, k % 2 === 0, i, i + k / 100);
      expected.push(`${name}:${i}:${i + k / 100}`);
    }
    if (i % 97 === 0) w.event({ type: 'writer-cursor', v: 1, data: { writer: 'w', iter: i, detail: { pad: 'x'.repeat(i % 3000) } } });
    w.step(i, i);
  }
  await w.close();
  const names = log.names(1);
  const got: string[] = [];
  let cursors = 0;
  for (const b of log.batches(1)) {
    for (const e of decodeBatch(b.body, names)) {
      if (e.type === 'scalar') got.push(`${e.data.name}:${e.data.iter}:${e.data.value}`);
      if (e.type === 'writer-cursor') cursors++;
    }
  }
  assert.deepEqual(got, expected);
  assert.equal(cursors, Math.ceil(3000 / 97));
  log.close();
});

test('a batch larger than the ring is refused with a typed error, and the run goes on', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' }, { ringBytes: 4096 });
  w.scalar('loss', true, 0, 1);
  w.step(0, 1);
  w.event({ type: 'hook-failed', v: 1, data: { hook: 'h', phase: 'p', iter: 1, message: 'x'.repeat(10_000) } });
  w.scalar('loss', true, 1, 2);
  assert.throws(() => w.step(1, 2), (e: unknown) => code('ERR_LOG_WRITE')(e) && /larger than the log's ring/.test((e as Error).message));
  w.scalar('loss', true, 2, 3);
  w.step(2, 3);
  await w.close();
  const names = log.names(1);
  const steps = [...log.batches(1)].map((b) => decodeBatch(b.body, names).map((e) => e.type).join(','));
  assert.deepEqual(steps, ['scalar,step', 'scalar,step']);
  log.close();
});

test('a reader never sees a batch whose metric names are not committed yet', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  const reader = LogFile.open(path, { readonly: true });
  await w.ready(); // the commit thread is up: reads below overlap its commits
  let read = 0;
  for (let i = 0; i < 2000; i++) {
    w.scalar(`new/${i}`, true, i, i); // a new name every step
    w.step(i, i);
    if (i % 100 === 0) {
      await new Promise((r) => setTimeout(r, 1));
      // Batches first, then names: names committed no later than their batches are all there.
      const batches = [...reader.batches(1)];
      const names = reader.names(1);
      for (const b of batches) {
        decodeBatch(b.body, names); // throws LogCorruptError on an undefined name
        read++;
      }
    }
  }
  await w.close();
  assert.ok(read > 0);
  assert.equal(reader.names(1).length, 2000);
  reader.close();
  log.close();
});

test('the commit thread copies the WAL into the database file once it is idle', async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  for (let i = 0; i < 120_000; i++) {
    for (let k = 0; k < 4; k++) w.scalar(`m${k}`, true, i, i);
    w.step(i, i);
  }
  await w.flush();
  // Committed batches live in the WAL; the database file grows when they are checkpointed,
  // which the commit thread does when nothing is left to commit.
  let size = statSync(path).size;
  for (let waited = 0; size < 4 << 20 && waited < 20_000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
    size = statSync(path).size;
  }
  assert.ok(size >= 4 << 20, `database file: ${size} bytes`);
  await w.close();
  assert.equal([...log.batches(1)].length, 120_000);
  log.close();
});

test('a step appended once the commit thread has gone to sleep wakes it and is committed', { timeout: 30_000 }, async () => {
  const path = join(tempDir(), 'a.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  await w.ready();
  w.scalar('loss', true, 0, 0);
  w.step(0, 0);
  await w.flush();
  // Idle, the thread sleeps until a producer wakes it (how soon is its policy, not asserted here).
  while (!w.writerAsleep) await new Promise((r) => setTimeout(r, 5));
  w.scalar('loss', true, 1, 1);
  w.step(1, 1);
  await w.flush();
  assert.equal(w.committedSeq, 2);
  await w.close();
  assert.deepStrictEqual(
    [...log.batches(1)].map((b) => decodeBatch(b.body, log.names(1)).map((e) => (e.type === 'scalar' ? e.data.value : e.type === 'step' ? e.data.iter : e.type))),
    [
      [0, 0],
      [1, 1],
    ],
  );
  log.close();
});
