import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { BatchPageReader, parseIntList, type BatchPage } from '../../src/log/batch-pages.js';
import { LogFile } from '../../src/log/log-file.js';
import { event } from '../../src/events/train-event.js';
import { tempDir } from '../helpers.js';

function rowsOf(page: BatchPage): Array<[number, number, string]> {
  const out: Array<[number, number, string]> = [];
  for (let i = 0; i < page.count; i++) {
    out.push([page.seqs[i]!, page.stepIters[i]!, Buffer.from(page.bytes.subarray(page.offsets[i]!, page.offsets[i + 1]!)).toString('hex')]);
  }
  return out;
}

function batchesTable(db: Database.Database): void {
  db.exec('CREATE TABLE batches (run_id INTEGER NOT NULL, seq INTEGER NOT NULL, step_iter INTEGER, body BLOB NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID');
}

test('parseIntList reads comma-separated integers and refuses anything else', () => {
  const out = new Float64Array(4);
  assert.equal(parseIntList('3,-1,12', out), 3);
  assert.deepEqual([...out.subarray(0, 3)], [3, -1, 12]);
  for (const bad of ['', '1,', ',1', '1,,2', '1;2', '-', '1-2', '1,2,3,4,5', ' 1']) assert.equal(parseIntList(bad, out), -1, JSON.stringify(bad));
});

test('a page packed by SQLite holds exactly the rows, bytes included, that reading row by row gives', () => {
  const body = fc.uint8Array({ maxLength: 300 });
  fc.assert(
    fc.property(fc.array(fc.tuple(body, fc.option(fc.nat(1e6))), { maxLength: 60 }), fc.nat(5), fc.integer({ min: 1, max: 80 }), (rows, gap, limit) => {
      for (const encoding of ['UTF-8', 'UTF-16le']) {
        const db = new Database(':memory:');
        db.pragma(`encoding = '${encoding}'`);
        batchesTable(db);
        const insert = db.prepare('INSERT INTO batches VALUES (?, ?, ?, ?)');
        rows.forEach(([b, it], i) => insert.run(1, i * (gap + 1), it, Buffer.from(b)));
        insert.run(2, 0, 1, Buffer.from([9])); // another run: never in the page
        const expected = (db.prepare('SELECT seq, coalesce(step_iter, -1), hex(body) FROM batches WHERE run_id = 1 AND seq >= ? ORDER BY seq LIMIT ?').raw().all(gap, limit) as Array<[number, number, string]>).map(
          ([s, it, hex]) => [s, it, hex.toLowerCase()] as [number, number, string],
        );
        const page = new BatchPageReader(db, { checksums: false, path: 'test' }).read(1, gap, Number.MAX_SAFE_INTEGER, limit);
        assert.deepEqual(rowsOf(page), expected, encoding);
        db.close();
      }
    }),
    { numRuns: 50 },
  );
});

test('batches() reads every batch in order across growing pages and big bodies', async () => {
  const path = join(tempDir(), 'pages.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'r' });
  for (let i = 0; i < 3000; i++) {
    // Now and then a big rare event, so pages are cut by bytes as well as by rows.
    if (i % 500 === 7) w.event(event('hook-failed', { hook: 'h', phase: 'p', iter: i, message: 'x'.repeat(1_500_000) }));
    w.scalar('loss', true, i, i);
    w.step(i, i);
  }
  await w.close();
  const seen = [...log.batches(1)];
  assert.deepEqual(
    seen.map((b) => b.seq),
    Array.from({ length: 3000 }, (_, i) => i),
  );
  assert.deepEqual(seen.slice(0, 3).map((b) => b.stepIter), [0, 1, 2]);
  assert.ok(seen[7]!.body.length > 1_500_000);
  let pages = 0;
  for (const page of log.batchPages(1, 100, 2999)) {
    pages++;
    assert.ok(page.count > 0);
  }
  assert.ok(pages >= 3, `pages: ${pages}`);
  log.close();
});
