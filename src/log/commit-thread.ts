/**
 * The log's commit thread: drains the ring and commits batches to SQLite. Every batch is one
 * row, so a reader never sees half a step; when the trainer runs ahead, all batches waiting in
 * the ring are committed in one transaction (group commit), inserted many rows per statement
 * straight from the ring's memory, which is how ingest keeps up with a training thread that
 * produces steps far faster than one commit each.
 *
 * WAL checkpoints fold the WAL into the database file and fsync it: until then a power cut can
 * take back commits (`synchronous=NORMAL`), and the WAL file grows. They run here, on this thread,
 * never on the training thread: by SQLite itself inside the commit that makes the WAL pass
 * `walMaxBytes` (it counts the pages exactly), and by time, at least every `checkpointEveryMs`
 * while anything is waiting, which bounds what a power cut can take back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  CTRL_CLOSED,
  CTRL_COMMITTED_SEQ,
  CTRL_ERROR,
  CTRL_FLUSH_TO,
  CTRL_PROJECTION_ERROR,
  CTRL_READY,
  CTRL_SLEEPING,
  CTRL_USED,
  RingConsumer,
} from './ring-buffer.js';
import {
  BATCH_HEADER_BYTES,
  MSG_BATCH,
  MSG_NAME,
  hasRewind,
  messageKind,
  readBatchHeader,
  readNameId,
  readNameText,
  type BatchHeader,
  type CommitThreadData,
} from './commit-protocol.js';
import { loadCommitObserver, type CommitObserver } from './commit-observer.js';
import { batchChecksum, extentChecksum, nameChecksum, rewindChecksum } from './row-checksum.js';
import { leaseHeartbeat, releaseLease } from './run-lease.js';
import type { CacheFiller } from './cache-filler.js';

/** After this long without data the thread sleeps until woken; before, it polls every ms (while batches come fast). */
const POLL_WHILE_ACTIVE_MS = 250;
/** Poll only while batches arrive closer together than this; above it, sleep between them. */
const POLL_GAP_MS = 5;

/** Columns of a batches row: run_id, seq, step_iter, body, crc. */
const COLUMNS = 5;
/** Rows per INSERT statement at most (powers of two below it cover the rest of a group). */
const MAX_ROWS_PER_INSERT = 64;
const data = workerData as CommitThreadData;
/** Least time between commits: the `groupMs` asked for, else a millisecond. */
const GROUP_MS = data.groupMs > 0 ? data.groupMs : 1;
const ring = new RingConsumer({ sab: data.sab, capacity: data.capacity });
const ctrl = ring.ctrl;

/** The run's commit observer (metric-writer projections), if it asked for one. */
async function loadObserver(): Promise<CommitObserver | null> {
  if (data.observer === null) return null;
  return loadCommitObserver(data.observer, {
    path: data.path,
    runId: data.runId,
    names: data.names,
    onError: (message) => {
      // The message first: the training thread reads it once it sees the flag.
      data.errorPort?.postMessage(message);
      Atomics.store(ctrl, CTRL_PROJECTION_ERROR, 1);
    },
  });
}

function run(observer: CommitObserver | null, fillerClass: typeof CacheFiller | null): void {
  let db: Database.Database;
  try {
    db = new Database(data.path, { fileMustExist: true });
    db.pragma('busy_timeout = 10000');
    db.pragma(`synchronous = ${data.synchronous}`);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(data.walMaxBytes / pageSize))}`);
    // A WAL that grew past the bound (a reader held a snapshot) is cut back once checkpointed.
    db.pragma(`journal_size_limit = ${data.walMaxBytes}`);
    // The caller's pragmas last, so tests can override the defaults (e.g. a checkpoint per commit).
    for (const pragma of data.pragmas) db.pragma(pragma);
  } catch (e) {
    ring.setError(`cannot open ${data.path} for writing: ${(e as Error).message}`);
    return;
  }
  Atomics.store(ctrl, CTRL_READY, 1);
  Atomics.notify(ctrl, CTRL_READY);
  const filler = fillerClass === null ? null : new fillerClass(data.path, data.runId);
  const insertRewind = db.prepare('INSERT INTO rewinds (run_id, seq, to_iter, to_seq, crc) VALUES (?, ?, ?, ?, ?)');
  const insertName = db.prepare('INSERT INTO metric_names (run_id, id, name, crc) VALUES (?, ?, ?, ?)');
  // The run's extent, apart from the batches (see migrations/004-run-extents.sql).
  const setExtent = db.prepare('INSERT INTO run_extents (run_id, last_seq, crc) VALUES (?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET last_seq = excluded.last_seq, crc = excluded.crc');
  // Inserting k rows with one k-row statement: a statement run's fixed cost (binding, stepping,
  // resetting) is far more than SQLite spends on a row.
  const inserts = new Map<number, Database.Statement>();
  const insertRows = (k: number): Database.Statement => {
    let stmt = inserts.get(k);
    if (stmt === undefined) {
      stmt = db.prepare(`INSERT INTO batches (run_id, seq, step_iter, body, crc) VALUES ${'(?, ?, ?, ?, ?), '.repeat(k - 1)}(?, ?, ?, ?, ?)`);
      inserts.set(k, stmt);
    }
    return stmt;
  };
  const runId = data.runId;
  // The lease tells other processes this run has a live writer.
  const beat = leaseHeartbeat(db, runId);
  const view = ring.view;
  const area = ring.data;
  // Message offsets of the current drain: read in place, no copy out of the ring (the producer
  // cannot reuse those bytes before `release`, which follows the commit).
  let offsets = new Int32Array(4096);
  let lengths = new Int32Array(4096);
  let count = 0;
  /** Bodies to commit instead of the ring's, by message index (batches with write points). */
  const replaced: Array<Uint8Array | null> = [];
  const collect = (at: number, length: number): void => {
    if (count === offsets.length) {
      const o = new Int32Array(count * 2);
      o.set(offsets);
      offsets = o;
      const l = new Int32Array(count * 2);
      l.set(lengths);
      lengths = l;
    }
    offsets[count] = at;
    lengths[count] = length;
    count++;
  };
  const rowArgs: unknown[][] = [];
  for (let k = 1; k <= MAX_ROWS_PER_INSERT; k <<= 1) rowArgs[k] = new Array<unknown>(COLUMNS * k);
  let lastSeq = -1;
  let lastStepIter = -1;
  const header: BatchHeader = { seq: 0, stepIter: 0, rewindIter: 0, rewindSeq: 0 };
  const commit = db.transaction((n: number): void => {
    let first = 0; // first batch message not yet inserted
    let rows = 0; // batch messages from `first` on
    const insertPending = (): void => {
      // Largest power-of-two statements first: at most log2(MAX) statements for the rest.
      let i = first;
      let left = rows;
      for (let k = MAX_ROWS_PER_INSERT; left > 0; k >>= 1) {
        while (left >= k) {
          const args = rowArgs[k]!;
          let a = 0;
          while (a < COLUMNS * k) {
            const at = offsets[i]!;
            const len = lengths[i]!;
            i++;
            if (messageKind(view, at) !== MSG_BATCH) continue;
            const { seq, stepIter } = readBatchHeader(view, at, header);
            const stored = replaced[i - 1];
            const body = stored ?? area;
            const start = stored ? 0 : at + BATCH_HEADER_BYTES;
            const end = stored ? stored.length : at + len;
            args[a++] = runId;
            args[a++] = seq;
            args[a++] = stepIter < 0 ? null : stepIter;
            args[a++] = stored ?? area.subarray(start, end);
            args[a++] = batchChecksum(runId, seq, stepIter < 0 ? null : stepIter, body, start, end);
          }
          insertRows(k).run(args);
          args.fill(null); // no view of the ring outlives the drain
          left -= k;
        }
      }
      rows = 0;
      first = i;
    };
    for (let m = 0; m < n; m++) {
      const at = offsets[m]!;
      const len = lengths[m]!;
      const kind = messageKind(view, at);
      if (kind === MSG_BATCH) {
        const h = readBatchHeader(view, at, header);
        const seq = h.seq;
        if (hasRewind(h)) insertRewind.run(runId, seq, h.rewindIter, h.rewindSeq, rewindChecksum(runId, seq, h.rewindIter, h.rewindSeq));
        if (rows === 0) first = m;
        rows++;
        lastSeq = seq;
        if (h.stepIter >= 0) lastStepIter = h.stepIter;
        if (rows === MAX_ROWS_PER_INSERT) insertPending();
      } else if (kind === MSG_NAME) {
        // Rare (once per metric), so the name's copy out of the ring costs nothing that matters.
        const name = readNameText(area, at, len);
        const id = readNameId(view, at);
        insertName.run(runId, id, name, nameChecksum(runId, id, name));
      }
    }
    if (rows > 0) insertPending();
    if (lastSeq >= 0) setExtent.run(runId, lastSeq, extentChecksum(runId, lastSeq));
  });

  /**
   * Hands the drained batches to the observer, which may give bodies to commit in their place
   * (projections write files at write points here, before the commit: a crash between leaves
   * lines past the committed cursor, dropped on resume).
   */
  const project = (p: CommitObserver): void => {
    replaced.length = count;
    replaced.fill(null);
    // Names travel after the batch that first uses them, in the same hand-over.
    for (let m = 0; m < count; m++) {
      const at = offsets[m]!;
      if (messageKind(view, at) === MSG_NAME) p.name(readNameId(view, at), readNameText(area, at, lengths[m]!));
    }
    for (let m = 0; m < count; m++) {
      const at = offsets[m]!;
      if (messageKind(view, at) === MSG_BATCH) replaced[m] = p.batch(area.subarray(at + BATCH_HEADER_BYTES, at + lengths[m]!));
    }
  };

  let lastCommit = 0;
  let lastData = 0;
  let gapMs = 0;
  /** Whether commits wait in the WAL for the timed checkpoint, and since when it last ran. */
  let uncheckpointed = false;
  let lastCheckpoint = performance.now();
  const checkpointDue = (): boolean => uncheckpointed && performance.now() - lastCheckpoint >= data.checkpointEveryMs;
  const checkpoint = (): void => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A checkpoint that cannot run now (a reader holds the WAL) is retried later; the commits
      // themselves are already in the WAL.
    }
    uncheckpointed = false;
    lastCheckpoint = performance.now();
  };
  for (;;) {
    const used = Atomics.load(ctrl, CTRL_USED);
    const closing = Atomics.load(ctrl, CTRL_CLOSED) !== 0;
    beat();
    if (used === 0) {
      if (closing) break;
      if (checkpointDue()) {
        checkpoint();
        continue;
      }
      if (performance.now() - lastData < POLL_WHILE_ACTIVE_MS && gapMs < POLL_GAP_MS) {
        // Poll while steps come fast (a wake-up per step would cost the training thread a
        // syscall), sleep between slow ones (polling takes a CPU from training); the producer
        // notifies only a thread that has announced it sleeps (CTRL_SLEEPING), below.
        Atomics.wait(ctrl, CTRL_USED, 0, 1);
        continue;
      }
      Atomics.store(ctrl, CTRL_SLEEPING, 1);
      Atomics.wait(ctrl, CTRL_USED, 0, 200);
      Atomics.store(ctrl, CTRL_SLEEPING, 0);
      continue;
    }
    const arrived = performance.now();
    // How far apart batches arrive (smoothed): decides between polling and sleeping above.
    if (lastData > 0) gapMs = 0.7 * gapMs + 0.3 * (arrived - lastData);
    lastData = arrived;
    if (!closing) {
      // Commits at most every GROUP ms (1 for 'step' durability) unless someone waits for a
      // flush: fast steps would otherwise have this thread commit a row or two at a time, flat out.
      const wait = lastCommit + GROUP_MS - performance.now();
      const flushTo = Atomics.load(ctrl, CTRL_FLUSH_TO);
      if (wait > 0 && flushTo <= Atomics.load(ctrl, CTRL_COMMITTED_SEQ)) {
        Atomics.wait(ctrl, CTRL_FLUSH_TO, flushTo, Math.max(1, wait));
        continue;
      }
    }
    count = 0;
    const bytes = ring.drain(collect);
    if (observer !== null) project(observer);
    try {
      commit(count);
      uncheckpointed = true;
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
        ring.release(ring.drain(() => {}));
      }
      db.close();
      observer?.close();
      filler?.close();
      return;
    }
    lastCommit = performance.now();
    ring.release(bytes);
    if (lastSeq >= 0) {
      Atomics.store(ctrl, CTRL_COMMITTED_SEQ, lastSeq + 1);
      Atomics.notify(ctrl, CTRL_COMMITTED_SEQ);
    }
    filler?.committed(lastStepIter);
    // Flat out, the thread is never idle: keep the time bound anyway.
    if (checkpointDue()) checkpoint();
  }
  releaseLease(db, runId);
  if (uncheckpointed) checkpoint();
  db.close();
  observer?.close();
  filler?.close();
}

let loaded: CommitObserver | null = null;
// Loaded only when asked for: replay and the cache are not small modules.
let fillerClass: typeof CacheFiller | null = null;
try {
  loaded = await loadObserver();
  if (data.fillSnapshotCache) fillerClass = (await import('./cache-filler.js')).CacheFiller;
} catch (e) {
  ring.setError((e as Error).message);
}
try {
  if (Atomics.load(ctrl, CTRL_ERROR) === 0) run(loaded, fillerClass);
} catch (e) {
  // Said through the ring, not only as the worker's 'error' event: a training thread blocked on a
  // full ring never turns its event loop to hear that event, and would wait for room forever.
  ring.setError(`log commit thread crashed: ${(e as Error).message}`);
}
parentPort?.postMessage('closed');
