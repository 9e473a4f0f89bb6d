/**
 * The log's writer thread: drains the ring and commits batches to SQLite. Every batch is one
 * row, so a reader never sees half a step; when the trainer runs ahead, all batches waiting in
 * the ring are committed in one transaction (group commit), which is how ingest keeps up with a
 * training thread that produces a step every few microseconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  CTRL_CLOSED,
  CTRL_COMMITTED_SEQ,
  CTRL_FLUSH_TO,
  CTRL_READY,
  CTRL_SLEEPING,
  CTRL_USED,
  RingConsumer,
} from './ring-buffer.js';
import { MSG_BATCH, MSG_NAME, type WriterWorkerData } from './writer-protocol.js';

const data = workerData as WriterWorkerData;
const ring = new RingConsumer({ sab: data.sab, capacity: data.capacity });
const ctrl = ring.ctrl;

function run(): void {
  let db: Database.Database;
  try {
    db = new Database(data.path, { fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    db.pragma(`synchronous = ${data.synchronous}`);
  } catch (e) {
    ring.setError(`cannot open ${data.path} for writing: ${(e as Error).message}`);
    return;
  }
  Atomics.store(ctrl, CTRL_READY, 1);
  Atomics.notify(ctrl, CTRL_READY);
  const insertBatch = db.prepare('INSERT INTO batches (run_id, seq, step_iter, body) VALUES (?, ?, ?, ?)');
  const insertRewind = db.prepare('INSERT INTO rewinds (run_id, seq, to_iter, to_seq) VALUES (?, ?, ?, ?)');
  const insertName = db.prepare('INSERT INTO metric_names (run_id, id, name) VALUES (?, ?, ?)');
  const runId = data.runId;
  const heartbeat = db.prepare('UPDATE writer_leases SET heartbeat = ? WHERE run_id = ? AND pid = ?');
  let lastBeat = 0;
  const beat = (): void => {
    // The lease tells other processes this run has a live writer (see writer-lease.ts).
    const now = Date.now();
    if (now - lastBeat < 2000) return;
    lastBeat = now;
    try {
      heartbeat.run(now / 1000, runId, process.pid);
    } catch {
      // A busy database delays a heartbeat; the next one retries.
    }
  };
  let lastSeq = -1;
  const commit = db.transaction((messages: Buffer[]) => {
    for (const m of messages) {
      const kind = m.readUInt8(0);
      if (kind === MSG_BATCH) {
        const seq = m.readUInt32LE(1);
        const stepIter = m.readInt32LE(5);
        const rewindIter = m.readInt32LE(9);
        const rewindSeq = m.readInt32LE(13);
        insertBatch.run(runId, seq, stepIter < 0 ? null : stepIter, m.subarray(17));
        if (rewindIter >= -1 && rewindSeq >= 0) insertRewind.run(runId, seq, rewindIter, rewindSeq);
        lastSeq = seq;
      } else if (kind === MSG_NAME) {
        insertName.run(runId, m.readUInt32LE(1), m.subarray(5).toString('utf8'));
      }
    }
  });

  let lastCommit = 0;
  for (;;) {
    const used = Atomics.load(ctrl, CTRL_USED);
    const closing = Atomics.load(ctrl, CTRL_CLOSED) !== 0;
    beat();
    if (used === 0) {
      if (closing) break;
      Atomics.store(ctrl, CTRL_SLEEPING, 1);
      Atomics.wait(ctrl, CTRL_USED, 0, 200);
      Atomics.store(ctrl, CTRL_SLEEPING, 0);
      continue;
    }
    if (data.groupMs > 0 && !closing) {
      // Grouped durability: wait out the period unless someone is waiting for a flush.
      const wait = lastCommit + data.groupMs - performance.now();
      const flushTo = Atomics.load(ctrl, CTRL_FLUSH_TO);
      if (wait > 0 && flushTo <= Atomics.load(ctrl, CTRL_COMMITTED_SEQ)) {
        Atomics.wait(ctrl, CTRL_FLUSH_TO, flushTo, Math.max(1, wait));
        continue;
      }
    }
    const { messages, bytes } = ring.readAvailable();
    try {
      commit(messages);
    } catch (e) {
      ring.setError((e as Error).message);
      ring.release(bytes);
      // Keep draining so the training thread never blocks on a full ring; nothing more commits.
      for (;;) {
        const closed = Atomics.load(ctrl, CTRL_CLOSED) !== 0;
        if (Atomics.load(ctrl, CTRL_USED) === 0) {
          if (closed) break;
          Atomics.wait(ctrl, CTRL_USED, 0, 200);
          continue;
        }
        ring.release(ring.readAvailable().bytes);
      }
      db.close();
      return;
    }
    lastCommit = performance.now();
    ring.release(bytes);
    if (lastSeq >= 0) {
      Atomics.store(ctrl, CTRL_COMMITTED_SEQ, lastSeq + 1);
      Atomics.notify(ctrl, CTRL_COMMITTED_SEQ);
    }
  }
  try {
    db.prepare('DELETE FROM writer_leases WHERE run_id = ? AND pid = ?').run(runId, process.pid);
  } catch {
    // Left behind, the lease is recognised as stale: its pid is gone.
  }
  db.close();
}

run();
parentPort?.postMessage('closed');
