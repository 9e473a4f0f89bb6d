import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LogFile } from '../../src/log/log-file.js';
import { decodeBatch } from '../../src/log/batch-codec.js';
import { event } from '../../src/events/train-event.js';
import { tempDir } from '../helpers.js';

test('batchesHolding gives exactly the batches a full decode finds holding the event type, in seq order', async () => {
  const path = join(tempDir(), 'h.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'h' });
  for (let i = 0; i < 500; i++) {
    w.scalar('loss', true, i, Math.cos(i));
    if (i % 7 === 3) w.event(event('writer-cursor', { writer: `json:${i % 2}`, iter: i }));
    if (i % 11 === 0) w.event(event('checkpoint-saved', { iter: i, name: `model_${i}`, path: '/x' }));
    w.step(i, i);
  }
  await w.close();
  const names = log.names(1);
  // The oracle: decode every batch and keep those with a writer-cursor event.
  const expected = [...log.batches(1)].filter((b) => decodeBatch(b.body, names).some((e) => e.type === 'writer-cursor')).map((b) => b.seq);
  assert.equal(expected.length, Math.ceil((500 - 3) / 7));
  assert.deepEqual(log.batchesHolding(1, '"writer-cursor"').map((b) => b.seq), expected);
  assert.deepEqual(log.batchesHolding(1, '"no-such-event"'), []);
  log.close();
});

test('a batch batchesHolding finds whose bytes changed is LogCorruptError naming its seq', async () => {
  const path = join(tempDir(), 'c.sqlite');
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'c' });
  for (let i = 0; i < 20; i++) {
    w.event(event('writer-cursor', { writer: 'json:a', iter: i }));
    w.step(i, i);
  }
  await w.close();
  log.close();
  const db = new Database(path);
  db.exec('DROP TRIGGER batches_append_only_u');
  db.prepare("UPDATE batches SET body = CAST(replace(CAST(body AS TEXT), 'json:a', 'json:b') AS BLOB) WHERE seq = 5").run();
  db.close();
  const reader = LogFile.open(path, { readonly: true });
  assert.throws(() => reader.batchesHolding(1, '"writer-cursor"'), (e: unknown) => (e as { code?: string }).code === 'ERR_LOG_CORRUPT' && /batch seq 5 fails its checksum/.test((e as Error).message));
  reader.close();
});
