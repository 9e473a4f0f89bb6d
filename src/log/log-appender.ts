import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { BatchEncoder, SCALAR_RECORD_BYTES, STEP_RECORD_BYTES, writeScalarRecord, writeStepRecord } from './batch-codec.js';
import { LogClosedError, LogWriteError, ProjectionWriteError } from './log-errors.js';
import {
  CTRL_CLOSED,
  CTRL_COMMITTED_SEQ,
  CTRL_ERROR,
  CTRL_ERROR_LENGTH,
  CTRL_FLUSH_TO,
  CTRL_PROJECTION_ERROR,
  CTRL_READY,
  CTRL_SLEEPING,
  CTRL_USED,
  RingProducer,
  createRing,
} from './ring-buffer.js';
import { BATCH_HEADER_BYTES, MSG_BATCH, MSG_NAME, NAME_HEADER_BYTES, type CommitThreadData } from './commit-protocol.js';
import type { TrainEvent, WritePointEvent } from '../events/train-event.js';
import type { EventSink } from '../storage/event-sink.js';
import type { CommitObserverSpec } from './commit-observer.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * How durable the log is, and what a crash can lose.
 *
 * - `'step'` (default): every step's batch is committed as soon as the commit thread gets it
 *   (WAL, `synchronous=NORMAL`). A killed process loses only batches still in the hand-off ring
 *   (in practice the step in progress: a commit takes microseconds, a step milliseconds). An OS
 *   crash or power cut can also lose the commits made since the last WAL checkpoint, which the
 *   commit thread runs at least every `checkpointEveryMs` (1 s) while there is something to
 *   fold in, and whenever the WAL passes `walMaxBytes` (16 MiB).
 * - `{ groupMs: N }`: commits at most every N ms. A killed process loses at most the last N ms
 *   of steps; cheaper on slow disks.
 * - `'fsync'`: every commit is fsynced (`synchronous=FULL`): also survives power loss, at the
 *   price of one fsync per commit on the commit thread.
 *
 * Whatever the mode, `flush()` / `flushSync()` return once everything appended before them is
 * committed; checkpoints call it, so a checkpoint never refers to metrics the log lost.
 */
export type Durability = 'step' | 'fsync' | { readonly groupMs: number };

export interface LogAppenderOptions {
  readonly durability?: Durability;
  /** Size of the hand-off ring; bounds what a crash can lose and the memory used. Default 8 MiB. */
  readonly ringBytes?: number;
  /**
   * PRAGMAs run on the commit thread's connection after it opens, e.g. `max_page_count = 100`
   * to cap the log's size (used to test a full disk).
   */
  readonly pragmas?: readonly string[];
  /**
   * The WAL is checkpointed (folded into the database file, which is then fsynced) whenever it
   * holds more than this many bytes of pages. Default 16 MiB; bounds the WAL file's size while no
   * reader holds an old snapshot.
   */
  readonly walMaxBytes?: number;
  /**
   * Committed steps reach the database file (and survive a power cut) at most this long after
   * their commit: the commit thread checkpoints when this long has passed since its last
   * checkpoint. Default 1000 ms.
   */
  readonly checkpointEveryMs?: number;
  /**
   * A module the commit thread loads to see each batch before it commits: the trainer passes
   * `projectionObserver(specs)` here so metric writers run as projections of the log, writing at
   * the `write-point` events appended by `writePoint`, off the training thread.
   */
  readonly observer?: CommitObserverSpec | null;
}

/** Bytes reserved in the ring at a time for the records of a batch (a step of ~14 scalars). */
const RESERVE_BLOCK = 256;

const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./commit-thread${fromSource ? '.ts' : '.js'}`, import.meta.url).href;
// The worker starts from a small bootstrap: under tsx (running from source) it registers tsx's
// loader in the thread first, and any failure to load is reported through the shared control
// block, which the training thread reads without needing its event loop to run.
const bootstrap = `
const { workerData } = require('node:worker_threads');
(async () => {
  ${fromSource ? `(await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})).register();` : ''}
  await import(${JSON.stringify(workerUrl)});
})().catch((e) => {
  const ctrl = new Int32Array(workerData.sab, 0, 16);
  const text = Buffer.from('log commit thread failed to start: ' + (e && e.stack || e));
  new Uint8Array(workerData.sab, 64, 4096).set(text.subarray(0, 4096));
  Atomics.store(ctrl, ${CTRL_ERROR_LENGTH}, Math.min(4096, text.length));
  Atomics.store(ctrl, ${CTRL_ERROR}, 1);
  Atomics.notify(ctrl, ${CTRL_READY});
  Atomics.notify(ctrl, 0);
});`;

/**
 * Waits until `ctrl[index]` may have changed from `value` (woken by Atomics.notify), or 20 ms.
 * Atomics.waitAsync alone does not keep the event loop alive: if the commit thread is gone
 * (it exits after failing to open the log), the process would exit with the wait pending. The
 * timer keeps it alive, and bounds a wait whose wake-up was missed.
 */
async function waitFor(ctrl: Int32Array, index: number, value: number): Promise<void> {
  const r = Atomics.waitAsync(ctrl, index, value, 20);
  if (!r.async) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([r.value, new Promise<void>((resolve) => (timer = setTimeout(resolve, 20)))]);
  clearTimeout(timer);
}

/**
 * Appends one run's events to the log from the training thread. Encoding happens here (a few
 * tens of nanoseconds per scalar); SQLite commits happen on a commit thread fed through a
 * shared-memory ring, so the training thread never waits for the disk.
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
  readonly #worker: Worker;
  /** Encodes the rare JSON events, which are then copied into the ring. */
  readonly #encoder = new BatchEncoder();
  readonly #names: Map<string, number>;
  /** Names defined by the open batch: sent right after it, in the same hand-over. */
  readonly #newNames: Array<readonly [id: number, name: string]> = [];
  /** Whether a batch is open in the ring (its header reserved). */
  #batchOpen = false;
  /** Record bytes of the open batch, counting any dropped once it outgrew the ring. */
  #batchBytes = 0;
  /**
   * Where the next record of the open batch goes in the ring, and the end of the room reserved
   * for it there: a record that fits costs a compare and its stores. `#limit` is -1 when no
   * record may be written without the slow path (no batch, closed, or outgrown).
   */
  #cursor = 0;
  #limit = -1;
  readonly #exited: Promise<void>;
  readonly #onExit = (): void => {
    // A process that exits without close() still commits what it handed over.
    if (!this.#closed) this.#finishSync();
  };
  #nextSeq: number;
  #closed = false;
  /** Where the commit thread reports a failed projection (null without projections). */
  #errors: MessagePort | null = null;
  #projectionError: ProjectionWriteError | null = null;
  /** The last write-point event and its encoding: the same one is appended every period. */
  #pointEvent: WritePointEvent | null = null;
  #pointBytes: Uint8Array | null = null;

  /** @internal Use LogFile.createRun / appendToRun. */
  constructor(path: string, runId: number, nextSeq: number, names: readonly string[], options: LogAppenderOptions = {}) {
    this.runId = runId;
    this.#nextSeq = nextSeq;
    this.#names = new Map(names.map((n, i) => [n, i]));
    const durability = options.durability ?? 'step';
    let groupMs = 0;
    if (typeof durability === 'object') {
      if (!(durability.groupMs > 0)) {
        throw new InvalidArgumentError(`durability.groupMs must be a positive number of milliseconds, got ${durability.groupMs}`);
      }
      groupMs = durability.groupMs;
    } else if (durability !== 'step' && durability !== 'fsync') {
      throw new InvalidArgumentError(`durability must be 'step', 'fsync' or { groupMs }, got ${JSON.stringify(durability)}`);
    }
    const walMaxBytes = options.walMaxBytes ?? 16 << 20;
    if (!(Number.isInteger(walMaxBytes) && walMaxBytes >= 4096)) {
      throw new InvalidArgumentError(`walMaxBytes must be a whole number of bytes ≥ 4096, got ${walMaxBytes}`);
    }
    const checkpointEveryMs = options.checkpointEveryMs ?? 1000;
    if (!(checkpointEveryMs > 0)) {
      throw new InvalidArgumentError(`checkpointEveryMs must be a positive number of milliseconds, got ${checkpointEveryMs}`);
    }
    const ring = createRing(options.ringBytes ?? 8 << 20);
    this.#producer = new RingProducer(ring);
    Atomics.store(this.#producer.ctrl, CTRL_COMMITTED_SEQ, nextSeq);
    const observer = options.observer ?? null;
    // An observer reports failures on a port the training thread can read synchronously.
    const channel = observer !== null ? new MessageChannel() : null;
    this.#errors = channel?.port1 ?? null;
    this.#errors?.unref();
    const data: CommitThreadData = {
      path,
      runId,
      sab: ring.sab,
      capacity: ring.capacity,
      synchronous: durability === 'fsync' ? 'FULL' : 'NORMAL',
      pragmas: options.pragmas ?? [],
      walMaxBytes,
      checkpointEveryMs,
      groupMs,
      observer,
      names,
      errorPort: channel?.port2 ?? null,
    };
    this.#worker = new Worker(bootstrap, { eval: true, workerData: data, transferList: channel ? [channel.port2] : [] });
    this.#worker.unref();
    // Training starts at once: the thread opens the database while the first steps run, and
    // their batches wait in the ring meanwhile (a start takes ~0.1 s, ~0.4 s under tsx, which
    // compiles the thread's TypeScript). A thread that cannot write reports it through the
    // control block, which every step checks, so the first step after it throws LogWriteError:
    // a run's metrics are never dropped silently.
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('error', (e) => {
      this.#failWith(`log commit thread crashed: ${e.message}`);
    });
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
    const ctrl = this.#producer.ctrl;
    while (Atomics.load(ctrl, CTRL_READY) === 0 && Atomics.load(ctrl, CTRL_ERROR) === 0) await waitFor(ctrl, CTRL_READY, 0);
    if (Atomics.load(ctrl, CTRL_READY) === 0) this.#throwError();
  }

  /**
   * @internal Whether the commit thread sleeps until the training thread wakes it (between slow
   * steps, or when idle) rather than polling.
   */
  get writerAsleep(): boolean {
    return Atomics.load(this.#producer.ctrl, CTRL_SLEEPING) !== 0;
  }

  /** Sequence number the next batch gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Batches with seq below this are committed. */
  get committedSeq(): number {
    return Atomics.load(this.#producer.ctrl, CTRL_COMMITTED_SEQ);
  }

  /** Interned id of a metric name, defining it in the log on first use. */
  #nameId(name: string): number {
    let id = this.#names.get(name);
    if (id === undefined) {
      id = this.#names.size;
      this.#names.set(name, id);
      this.#newNames.push([id, name]);
    }
    return id;
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

  scalar(name: string, smoothingHint: boolean, iter: number, value: number): void {
    const id = this.#nameId(name);
    const at = this.#record(SCALAR_RECORD_BYTES);
    if (at >= 0) writeScalarRecord(this.#producer.view, at, id, smoothingHint, iter, value);
  }

  /** Records the end of step `iter`; the batch of this step is handed to the commit thread. */
  step(iter: number, wallTime: number): void {
    const at = this.#record(STEP_RECORD_BYTES);
    if (at >= 0) writeStepRecord(this.#producer.view, at, iter, wallTime);
    this.#send(iter, -2, -1);
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
      this.#send(-1, e.data.iter, e.data.toSeq);
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
    enc.reset();
  }

  /**
   * Appends a `write-point` event: the commit thread writes the writers it names with the state
   * up to here and records their cursors in its place. Pass the same event object every time:
   * its encoding is reused (this runs every write period, on the training thread).
   *
   * @example
   * ```ts
   * const point = { type: 'write-point', v: 1, data: { writers: ['json:out/metrics.json'] } } as const;
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
    if (this.#projectionError === null && Atomics.load(this.#producer.ctrl, CTRL_PROJECTION_ERROR) !== 0) {
      const m = this.#errors === null ? undefined : receiveMessageOnPort(this.#errors);
      this.#projectionError = new ProjectionWriteError(m === undefined ? 'a metric writer on the log commit thread failed' : String(m.message));
    }
    return this.#projectionError;
  }

  /** Hands over the events recorded since the last step as a batch of their own (if any). */
  commit(): void {
    if (this.#batchOpen) this.#send(-1, -2, -1);
  }

  #send(stepIter: number, rewindIter: number, rewindSeq: number): void {
    if (this.#closed) throw new LogClosedError(`run ${this.runId}: the log writer is closed`);
    const p = this.#producer;
    if (Atomics.load(p.ctrl, CTRL_ERROR) !== 0) {
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
    const h = p.view;
    const at = p.openAt;
    h.setUint8(at, MSG_BATCH);
    h.setUint32(at + 1, this.#nextSeq, true);
    h.setInt32(at + 5, stepIter, true);
    h.setInt32(at + 9, rewindIter, true);
    h.setInt32(at + 13, rewindSeq, true);
    p.end(BATCH_HEADER_BYTES + this.#batchBytes);
    this.#batchOpen = false;
    this.#limit = -1;
    // The names this batch uses go in the same hand-over, so the commit thread commits them in
    // the same transaction: a reader never sees a batch whose names are missing.
    if (this.#newNames.length > 0) this.#sendNames();
    p.publish();
    this.#nextSeq++;
  }

  #sendNames(): void {
    const p = this.#producer;
    for (const [id, name] of this.#newNames) {
      const bytes = Buffer.from(name, 'utf8');
      const at = p.reserve(NAME_HEADER_BYTES + bytes.length);
      if (at < 0) break; // failed: #checkError reports it on the next step
      p.view.setUint8(at, MSG_NAME);
      p.view.setUint32(at + 1, id, true);
      p.data.set(bytes, at + NAME_HEADER_BYTES);
      p.end();
    }
    this.#newNames.length = 0;
  }

  #dropBatch(): void {
    if (this.#batchOpen) this.#producer.discard();
    this.#batchOpen = false;
    this.#batchBytes = 0;
    this.#limit = -1;
  }

  #checkError(): void {
    if (Atomics.load(this.#producer.ctrl, CTRL_ERROR) !== 0) {
      throw new LogWriteError(`appending to the log failed: ${this.#producer.errorText()}; batches before seq ${this.committedSeq} are committed`);
    }
  }

  #failWith(message: string): void {
    const ctrl = this.#producer.ctrl;
    if (Atomics.load(ctrl, CTRL_ERROR) === 0) {
      Atomics.store(ctrl, CTRL_ERROR, 1);
      this.#lastError = message;
    }
  }
  #lastError: string | undefined;

  /**
   * Blocks until every batch handed over so far is committed.
   *
   * @example
   * ```ts
   * writer.flushSync(); // now safe to save a checkpoint that refers to these metrics
   * ```
   */
  flushSync(): void {
    const ctrl = this.#producer.ctrl;
    const target = this.#nextSeq;
    Atomics.store(ctrl, CTRL_FLUSH_TO, target);
    Atomics.notify(ctrl, CTRL_FLUSH_TO);
    for (;;) {
      if (Atomics.load(ctrl, CTRL_ERROR) !== 0) break;
      const committed = Atomics.load(ctrl, CTRL_COMMITTED_SEQ);
      if (committed >= target && Atomics.load(ctrl, CTRL_USED) === 0) return;
      Atomics.wait(ctrl, CTRL_COMMITTED_SEQ, committed, 20);
    }
    this.#throwError();
  }

  /** Resolves once every batch handed over so far is committed, without blocking the thread. */
  async flush(): Promise<void> {
    const ctrl = this.#producer.ctrl;
    const target = this.#nextSeq;
    Atomics.store(ctrl, CTRL_FLUSH_TO, target);
    Atomics.notify(ctrl, CTRL_FLUSH_TO);
    for (;;) {
      if (Atomics.load(ctrl, CTRL_ERROR) !== 0) break;
      const committed = Atomics.load(ctrl, CTRL_COMMITTED_SEQ);
      if (committed >= target && Atomics.load(ctrl, CTRL_USED) === 0) return;
      await waitFor(ctrl, CTRL_COMMITTED_SEQ, committed);
    }
    this.#throwError();
  }

  #throwError(): never {
    const text = this.#lastError ?? this.#producer.errorText();
    throw new LogWriteError(`appending to the log failed: ${text}; batches before seq ${this.committedSeq} are committed`);
  }

  #finishSync(): void {
    this.commit();
    const ctrl = this.#producer.ctrl;
    Atomics.store(ctrl, CTRL_CLOSED, 1);
    Atomics.notify(ctrl, CTRL_USED);
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
    const ctrl = this.#producer.ctrl;
    Atomics.store(ctrl, CTRL_CLOSED, 1);
    Atomics.notify(ctrl, CTRL_USED);
    this.#worker.ref();
    await this.#exited;
    // Writers on the commit thread write last at close: their failure fails the close.
    error ??= this.projectionError();
    this.#errors?.close();
    if (error) throw error;
  }

  get closed(): boolean {
    return this.#closed;
  }
}
