import { BatchEncoder, SCALAR_RECORD_MAX_BYTES, STEP_RECORD_MAX_BYTES, writeScalarRecord, writeStepRecord } from './batch-codec.js';
import { LogClosedError, LogWriteError, type ProjectionWriteError } from './errors.js';
import { CTRL_COMMITTED_SEQ, RingProducer, createRing } from './ring-buffer.js';
import { BATCH_HEADER_BYTES, NAME_HEADER_BYTES, NO_REWIND_ITER, NO_REWIND_SEQ, NO_STEP, writeBatchHeader, writeNameMessage } from './commit-protocol.js';
import { CommitThreadHandle } from './commit-thread-handle.js';
import type { TrainEvent, WritePointEvent } from '../events/train-event.js';
import type { EventSink } from '../storage/event-sink.js';
import { commitSettings, type LogAppenderOptions } from './appender-options.js';
import { NameTable } from './name-table.js';

/** Bytes reserved in the ring at a time for the records of a batch (a step of ~30 scalars). */
const RESERVE_BLOCK = 256;

/**
 * Appends one run's events to the log from the training thread. Encoding happens here, straight
 * into a shared-memory ring; SQLite commits happen on a commit thread that drains it, so the
 * training thread never waits for the disk.
 *
 * Obtain one from `LogFile.createRun` or `LogFile.appendToRun`.
 *
 * @example
 * ```ts
 * const log = LogFile.open('runs/x.sqlite');
 * const w = log.createRun({ name: 'x' });
 * w.scalar('loss', true, 0, 0.5);
 * w.step(0, Date.now() / 1000);
 * await w.close();
 * ```
 */
export class LogAppender implements EventSink {
  readonly runId: number;
  readonly #producer: RingProducer;
  readonly #thread: CommitThreadHandle;
  /** Encodes the rare JSON events, which are then copied into the ring. */
  readonly #encoder = new BatchEncoder();
  readonly #names: NameTable;
  /** Whether a batch is open in the ring (its header reserved). */
  #batchOpen = false;
  /** Record bytes of the open batch, counting any dropped once it outgrew the ring. */
  #batchBytes = 0;
  /** Iteration of the open batch's last record: the next record's is stored as a difference. */
  #prevIter = 0;
  /**
   * Where the next record of the open batch goes in the ring, and the end of the room reserved
   * for it there: a record that fits costs a compare and its stores. `#limit` is -1 when no
   * record may be written without the slow path (no batch, closed, or outgrown).
   */
  #cursor = 0;
  #limit = -1;
  readonly #onExit = (): void => {
    // A process that exits without close() still commits what it handed over.
    if (!this.#closed) this.#finishSync();
  };
  #nextSeq: number;
  #closed = false;
  /** The last write-point event and its encoding: the same one is appended every period. */
  #pointEvent: WritePointEvent | null = null;
  #pointBytes: Uint8Array | null = null;

  /** @internal Use LogFile.createRun / appendToRun. */
  constructor(path: string, runId: number, nextSeq: number, names: readonly string[], options: LogAppenderOptions = {}) {
    this.runId = runId;
    this.#nextSeq = nextSeq;
    this.#names = new NameTable(names);
    const settings = commitSettings(options);
    const ring = createRing(options.ringBytes ?? 8 << 20);
    this.#producer = new RingProducer(ring);
    Atomics.store(this.#producer.ctrl, CTRL_COMMITTED_SEQ, nextSeq);
    this.#thread = new CommitThreadHandle(this.#producer, { ...settings, path, runId, sab: ring.sab, capacity: ring.capacity, names });
    process.once('exit', this.#onExit);
  }

  /**
   * Resolves once the commit thread has opened the log and commits (appends need not wait for
   * it: they queue in the ring); rejects with LogWriteError if it could not.
   *
   * @example
   * ```ts
   * const w = log.createRun({ name: 'x' });
   * await w.ready(); // fail fast on a log that cannot be written
   * ```
   */
  async ready(): Promise<void> {
    await this.#thread.ready();
  }

  /**
   * @internal Whether the commit thread sleeps until the training thread wakes it (between slow
   * steps, or when idle) rather than polling.
   */
  get writerAsleep(): boolean {
    return this.#thread.asleep;
  }

  /** Sequence number the next batch gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Batches with seq below this are committed. */
  get committedSeq(): number {
    return this.#thread.committedSeq;
  }

  /**
   * Room for a record of `n` bytes in the open batch (opening one), or -1 when the record is not
   * to be written: the writer is closed or failed (the step then throws), or the batch outgrew
   * the ring (the step then throws and drops the batch).
   */
  #record(n: number): number {
    const at = this.#cursor;
    if (at + n <= this.#limit) {
      this.#cursor = at + n;
      this.#batchBytes += n;
      return at;
    }
    return this.#recordSlow(n);
  }

  #recordSlow(n: number): number {
    if (this.#closed) return -1;
    const p = this.#producer;
    if (!this.#batchOpen) {
      if (p.reserve(BATCH_HEADER_BYTES) < 0) return -1;
      this.#batchOpen = true;
      this.#batchBytes = 0;
    }
    const written = BATCH_HEADER_BYTES + this.#batchBytes;
    this.#batchBytes += n;
    if (written + n > p.maxMessage) {
      this.#limit = -1;
      return -1;
    }
    // Reserve a block, not just this record: the records of a step then skip this path.
    const extra = Math.min(Math.max(n - (p.openLength - written), RESERVE_BLOCK), p.maxMessage - p.openLength);
    if (p.reserve(extra) < 0) {
      this.#limit = -1;
      return -1;
    }
    // The reservation may have moved the message (to keep it whole at the ring's end).
    const start = p.openAt;
    this.#cursor = start + written + n;
    this.#limit = start + p.openLength;
    return start + written;
  }

  /** Ends a record written into room reserved up to `reservedEnd` (records vary in length). */
  #recorded(end: number, reservedEnd: number, iter: number): void {
    this.#cursor = end;
    this.#batchBytes -= reservedEnd - end;
    this.#prevIter = iter;
  }

  scalar(name: string, smoothingHint: boolean, iter: number, value: number): void {
    const id = this.#names.id(name);
    const at = this.#record(SCALAR_RECORD_MAX_BYTES);
    if (at >= 0) this.#recorded(writeScalarRecord(this.#producer.view, at, id, smoothingHint, iter, value, this.#prevIter), at + SCALAR_RECORD_MAX_BYTES, iter);
  }

  /** Records the end of step `iter`; the batch of this step is handed to the commit thread. */
  step(iter: number, wallTime: number): void {
    const at = this.#record(STEP_RECORD_MAX_BYTES);
    if (at >= 0) this.#recorded(writeStepRecord(this.#producer.view, at, iter, wallTime, this.#prevIter), at + STEP_RECORD_MAX_BYTES, iter);
    this.#send(iter, NO_REWIND_ITER, NO_REWIND_SEQ);
  }

  event(e: TrainEvent): void {
    if (e.type === 'scalar') {
      this.scalar(e.data.name, e.data.smoothingHint, e.data.iter, e.data.value);
    } else if (e.type === 'step') {
      this.step(e.data.iter, e.data.wallTime);
    } else if (e.type === 'resumed') {
      // A resume is its own batch: readers cut the timeline at it.
      this.commit();
      this.#json(e);
      this.#send(NO_STEP, e.data.iter, e.data.toSeq);
    } else {
      this.#json(e);
    }
  }

  #json(e: TrainEvent): void {
    const enc = this.#encoder;
    enc.reset();
    enc.json(e);
    const at = this.#record(enc.length);
    if (at >= 0) this.#producer.data.set(enc.view(), at);
  }

  /**
   * Appends a `write-point` event: the commit thread writes the writers it names with the state
   * up to here and records their cursors in its place. Pass the same event object every time:
   * its encoding is reused (this runs every write period, on the training thread).
   *
   * @example
   * ```ts
   * const point = event('write-point', { writers: ['json:out/metrics.json'] });
   * writer.writePoint(point);
   * ```
   */
  writePoint(e: WritePointEvent): void {
    if (e !== this.#pointEvent) {
      const enc = this.#encoder;
      enc.reset();
      enc.json(e);
      this.#pointBytes = enc.take();
      this.#pointEvent = e;
    }
    const bytes = this.#pointBytes!;
    const at = this.#record(bytes.length);
    if (at >= 0) this.#producer.data.set(bytes, at);
  }

  /**
   * The error of a metric writer that failed on the commit thread, if one did (a cheap check:
   * one atomic load while none has).
   *
   * @example
   * ```ts
   * const failed = writer.projectionError();
   * if (failed !== null) throw failed;
   * ```
   */
  projectionError(): ProjectionWriteError | null {
    return this.#thread.projectionError();
  }

  /** Hands over the events recorded since the last step as a batch of their own (if any). */
  commit(): void {
    if (this.#batchOpen) this.#send(NO_STEP, NO_REWIND_ITER, NO_REWIND_SEQ);
  }

  #send(stepIter: number, rewindIter: number, rewindSeq: number): void {
    if (this.#closed) throw new LogClosedError(`run ${this.runId}: the log writer is closed`);
    const p = this.#producer;
    if (this.#thread.failed) {
      this.#dropBatch();
      this.#checkError();
    }
    if (!this.#batchOpen) {
      // A step with nothing before it in the batch (its own record did not fit: failed above).
      if (p.reserve(BATCH_HEADER_BYTES) < 0) this.#checkError();
      this.#batchOpen = true;
      this.#batchBytes = 0;
    }
    if (BATCH_HEADER_BYTES + this.#batchBytes > p.maxMessage) {
      const bytes = this.#batchBytes;
      this.#dropBatch();
      throw new LogWriteError(`a batch of ${bytes} bytes is larger than the log's ring (${p.maxMessage}); log large images less often or raise ringBytes`);
    }
    writeBatchHeader(p.view, p.openAt, this.#nextSeq, stepIter, rewindIter, rewindSeq);
    p.end(BATCH_HEADER_BYTES + this.#batchBytes);
    this.#batchOpen = false;
    this.#prevIter = 0;
    this.#limit = -1;
    // The names this batch uses go in the same hand-over, so the commit thread commits them in
    // the same transaction: a reader never sees a batch whose names are missing.
    if (this.#names.hasPending) this.#sendNames();
    p.publish();
    this.#nextSeq++;
  }

  #sendNames(): void {
    const p = this.#producer;
    for (const [id, name] of this.#names.takePending()) {
      const bytes = Buffer.from(name, 'utf8');
      const at = p.reserve(NAME_HEADER_BYTES + bytes.length);
      if (at < 0) break; // failed: #checkError reports it on the next step
      writeNameMessage(p.view, p.data, at, id, bytes);
      p.end();
    }
  }

  #dropBatch(): void {
    if (this.#batchOpen) this.#producer.discard();
    this.#batchOpen = false;
    this.#batchBytes = 0;
    this.#prevIter = 0;
    this.#limit = -1;
  }

  #checkError(): void {
    if (this.#thread.failed) this.#thread.throwFailure();
  }

  /**
   * Blocks until every batch handed over so far is committed.
   *
   * @example
   * ```ts
   * writer.flushSync(); // now safe to save a checkpoint that refers to these metrics
   * ```
   */
  flushSync(): void {
    this.#thread.flushSync(this.#nextSeq);
  }

  /** Resolves once every batch handed over so far is committed, without blocking the thread. */
  async flush(): Promise<void> {
    await this.#thread.flush(this.#nextSeq);
  }

  #finishSync(): void {
    this.commit();
    this.#thread.stop();
    try {
      this.flushSync();
    } finally {
      this.#closed = true;
      this.#limit = -1;
    }
  }

  /**
   * Commits what is pending and stops the commit thread. Throws `LogWriteError` if anything
   * could not be committed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    process.removeListener('exit', this.#onExit);
    let error: unknown;
    try {
      this.commit();
      await this.flush();
    } catch (e) {
      error = e;
    }
    this.#closed = true;
    this.#limit = -1;
    this.#thread.stop();
    // Writers on the commit thread write last at close: their failure fails the close.
    const projectionFailed = await this.#thread.exit();
    error ??= projectionFailed;
    if (error) throw error;
  }

  get closed(): boolean {
    return this.#closed;
  }
}
