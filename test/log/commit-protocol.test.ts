import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BATCH_HEADER_BYTES,
  MSG_BATCH,
  MSG_NAME,
  NAME_HEADER_BYTES,
  NO_REWIND_ITER,
  NO_REWIND_SEQ,
  hasRewind,
  messageKind,
  readBatchHeader,
  readNameId,
  readNameText,
  writeBatchHeader,
  writeNameMessage,
  type BatchHeader,
} from '../../src/log/commit-protocol.js';

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

test('a batch header reads back as it was written, at any offset, without touching the bytes around it', () => {
  fc.assert(
    fc.property(fc.nat(40), fc.nat({ max: 2 ** 32 - 1 }), int32, int32, int32, (at, seq, stepIter, rewindIter, rewindSeq) => {
      const bytes = new Uint8Array(at + BATCH_HEADER_BYTES + 8).fill(0xab);
      const view = new DataView(bytes.buffer);
      writeBatchHeader(view, at, seq, stepIter, rewindIter, rewindSeq);
      const header: BatchHeader = { seq: 0, stepIter: 0, rewindIter: 0, rewindSeq: 0 };
      assert.equal(messageKind(view, at), MSG_BATCH);
      assert.deepEqual(readBatchHeader(view, at, header), { seq, stepIter, rewindIter, rewindSeq });
      assert.deepEqual([...bytes.subarray(0, at), ...bytes.subarray(at + BATCH_HEADER_BYTES)], new Array<number>(at + 8).fill(0xab));
    }),
  );
});

test('a batch written with no rewind is no resume, and a resume to the run start (iter -1, seq 0) is one', () => {
  const view = new DataView(new ArrayBuffer(BATCH_HEADER_BYTES));
  const header: BatchHeader = { seq: 0, stepIter: 0, rewindIter: 0, rewindSeq: 0 };
  writeBatchHeader(view, 0, 7, 3, NO_REWIND_ITER, NO_REWIND_SEQ);
  assert.equal(hasRewind(readBatchHeader(view, 0, header)), false);
  writeBatchHeader(view, 0, 8, -1, -1, 0);
  assert.equal(hasRewind(readBatchHeader(view, 0, header)), true);
  writeBatchHeader(view, 0, 9, -1, 41, 6);
  assert.deepEqual([hasRewind(readBatchHeader(view, 0, header)), header.rewindIter, header.rewindSeq], [true, 41, 6]);
});

test('a name message reads back its id and its UTF-8 name', () => {
  const name = 'loss/val · δ';
  const utf8 = Buffer.from(name, 'utf8');
  const data = new Uint8Array(3 + NAME_HEADER_BYTES + utf8.length);
  const view = new DataView(data.buffer);
  writeNameMessage(view, data, 3, 12, utf8);
  assert.deepEqual([messageKind(view, 3), readNameId(view, 3), readNameText(data, 3, NAME_HEADER_BYTES + utf8.length)], [MSG_NAME, 12, name]);
});
