import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { loadMigrations } from '../../src/log/migrations.js';
import { TrainledgerError } from '../../src/errors/trainledger-error.js';
import { tempDir } from '../helpers.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

/** A finished log whose pages are all in the main file (a flipped byte there is what is read). */
async function foldedLog(path: string, steps: number, value: (i: number) => number, name = 'loss'): Promise<void> {
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  for (let i = 0; i < steps; i++) {
    w.scalar(name, true, i, value(i));
    w.step(i, 1000 + i);
  }
  await w.close();
  log.close();
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Every value of every metric, in order: what an export would show. */
function readAll(path: string): Array<[string, number[]]> {
  const log = LogFile.open(path, { readonly: true });
  try {
    const m = replayRun(log, 1).state.metrics;
    return m.names.map((n, i) => [n, m.histories[i]!.values().map((v) => v[0])]);
  } finally {
    log.close();
  }
}

function flipFirst(path: string, needle: Buffer): void {
  const bytes = readFileSync(path);
  const at = bytes.indexOf(needle);
  assert.ok(at >= 0, 'the bytes to flip are in the file');
  bytes[at + needle.length - 1]! ^= 0x01;
  writeFileSync(path, bytes);
}

test('a flipped byte in a stored value is a LogCorruptError naming the run and seq, not a different number', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await foldedLog(path, 20, (i) => (i === 7 ? 1234.5678 : i));
  const f64 = Buffer.alloc(8);
  f64.writeDoubleLE(1234.5678);
  flipFirst(path, f64);
  assert.throws(() => readAll(path), (e: unknown) => code('ERR_LOG_CORRUPT')(e) && /run 1 batch seq 7 fails its checksum/.test((e as Error).message));
});

test('a flipped byte in a metric name is a LogCorruptError, not a renamed metric', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await foldedLog(path, 3, (i) => i, 'distinctive_metric_name');
  flipFirst(path, Buffer.from('distinctive_metric_name'));
  assert.throws(() => readAll(path), (e: unknown) => code('ERR_LOG_CORRUPT')(e) && /run 1 metric name 0 fails its checksum/.test((e as Error).message));
});

test('a batch row that went missing is a LogCorruptError, not a shorter replay', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await foldedLog(path, 10, (i) => i);
  // Only a damaged file loses a row: the append-only triggers are dropped on this copy to fake it.
  const db = new Database(path);
  db.exec('DROP TRIGGER batches_append_only_d; DELETE FROM batches WHERE seq = 4');
  db.close();
  assert.throws(() => readAll(path), (e: unknown) => code('ERR_LOG_CORRUPT')(e) && /run 1 has no batch seq 4 but has seq 5/.test((e as Error).message));
});

test('a schema-2 log without checksums is read as before, and rows appended after its upgrade are checked', async () => {
  const path = join(tempDir(), 'old.sqlite');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  for (const m of loadMigrations().filter((m) => m.version <= 2)) db.exec(m.sql);
  db.pragma('user_version = 2');
  db.prepare("INSERT INTO meta (key, value) VALUES ('format', 'trainledger'), ('log_id', 'x')").run();
  db.prepare("INSERT INTO runs (id, name, created_at) VALUES (1, 'old', 1)").run();
  db.prepare("INSERT INTO metric_names (run_id, id, name) VALUES (1, 0, 'loss')").run();
  const body = Buffer.alloc(17 + 13);
  body.writeUInt8(1, 0);
  body.writeUInt32LE(0, 1);
  body.writeUInt32LE(0, 5);
  body.writeDoubleLE(0.5, 9);
  body.writeUInt8(4, 17);
  body.writeUInt32LE(0, 18);
  body.writeDoubleLE(1000, 22);
  db.prepare('INSERT INTO batches (run_id, seq, step_iter, body) VALUES (1, 0, 0, ?)').run(body);
  db.close();

  assert.deepEqual(readAll(path), [['loss', [0.5]]]);
  const log = LogFile.open(path);
  const w = log.appendToRun(1);
  w.scalar('loss', true, 1, 0.25);
  w.step(1, 1001);
  await w.close();
  log.close();
  assert.deepEqual(readAll(path), [['loss', [0.5, 0.25]]]);
  const check = new Database(path, { readonly: true });
  assert.deepEqual(check.prepare('SELECT seq, crc IS NOT NULL AS checked FROM batches ORDER BY seq').raw().all(), [
    [0, 0],
    [1, 1],
  ]);
  check.close();
});

test('random byte flips in batch pages never change a value silently', async () => {
  const dir = tempDir();
  const path = join(dir, 'clean.sqlite');
  await foldedLog(path, 400, (i) => Math.sin(i) * 1000);
  const expected = readAll(path);
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = (db.prepare("SELECT pageno FROM dbstat WHERE name = 'batches'").raw().all() as [number][]).map(([p]) => p);
  db.close();
  assert.ok(pages.length >= 3, `batch pages: ${pages.length}`);
  const clean = readFileSync(path);
  let seed = 7;
  const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const outcomes = { same: 0, detected: 0 };
  for (let trial = 0; trial < 60; trial++) {
    const bytes = Buffer.from(clean);
    const page = pages[random(pages.length)]!;
    bytes[(page - 1) * pageSize + random(pageSize)]! ^= 1 << random(8);
    const copy = join(dir, `flip-${trial}.sqlite`);
    writeFileSync(copy, bytes);
    let got: Array<[string, number[]]> | null = null;
    try {
      got = readAll(copy);
    } catch (e) {
      assert.ok(e instanceof TrainledgerError, `trial ${trial}: an untyped error: ${String(e)}`);
      outcomes.detected++;
      continue;
    }
    // Read without an error: then it must be exactly what was written (the flip hit slack).
    assert.deepEqual(got, expected, `trial ${trial}: values changed silently`);
    outcomes.same++;
  }
  assert.ok(outcomes.detected > 0, `some flips hit data: ${JSON.stringify(outcomes)}`);
});

test('an event record that is not JSON is a LogCorruptError, not a SyntaxError', async () => {
  const { decodeBatch } = await import('../../src/log/batch-codec.js');
  const text = Buffer.from('{"type":"run-started","v":1,"data":{');
  const body = Buffer.alloc(5 + text.length);
  body.writeUInt8(5, 0);
  body.writeUInt32LE(text.length, 1);
  text.copy(body, 5);
  assert.throws(() => decodeBatch(body, []), (e: unknown) => code('ERR_LOG_CORRUPT')(e) && /not valid JSON/.test((e as Error).message));
});

test('a damaged leaf page that ends a scan early is a LogCorruptError, not a shorter run', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await foldedLog(path, 300, (i) => i);
  const db = new Database(path, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const leaf = (db.prepare("SELECT pageno FROM dbstat WHERE name = 'batches' AND pagetype = 'leaf' ORDER BY pageno").raw().all() as [number][])[0]![0];
  db.close();
  const bytes = readFileSync(path);
  // Byte 17 of a leaf page: in its cell-pointer array, as a bad disk or a stray write leaves it.
  bytes[(leaf - 1) * pageSize + 17]! ^= 0x01;
  writeFileSync(path, bytes);
  assert.throws(() => readAll(path), (e: unknown) => code('ERR_LOG_CORRUPT')(e));
});

test('a batch row whose body is no longer a BLOB is a LogCorruptError, not a TypeError', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await foldedLog(path, 10, (i) => i);
  // Only a damaged file changes a column's type: the triggers are dropped on this copy to fake it.
  const db = new Database(path);
  db.exec("DROP TRIGGER batches_append_only_u; UPDATE batches SET body = 'not a blob' WHERE seq = 3");
  db.close();
  assert.throws(() => readAll(path), (e: unknown) => code('ERR_LOG_CORRUPT')(e));
});

test('a run whose tail rows are gone (the scan and max(seq) alike) is a LogCorruptError, not a shorter run', async () => {
  const path = join(tempDir(), 'a.sqlite');
  await foldedLog(path, 300, (i) => i);
  // Only damage to an interior page loses a consistent tail: the triggers are dropped on this copy to fake it.
  const db = new Database(path);
  db.exec('DROP TRIGGER batches_append_only_d; DELETE FROM batches WHERE seq >= 290');
  db.close();
  assert.throws(() => readAll(path), (e: unknown) => code('ERR_LOG_CORRUPT')(e) && /stops after seq 289/.test((e as Error).message));
});
