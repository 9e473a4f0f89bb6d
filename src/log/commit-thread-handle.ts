import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { LogWriteError, ProjectionWriteError } from './errors.js';
import {
  CTRL_CLOSED,
  CTRL_COMMITTED_SEQ,
  CTRL_ERROR,
  CTRL_ERROR_LENGTH,
  CTRL_FLUSH_TO,
  CTRL_PROJECTION_ERROR,
  CTRL_READY,
  CTRL_SLEEPING,
  CTRL_SLOTS,
  CTRL_USED,
  ERROR_BYTES,
  type RingProducer,
} from './ring-buffer.js';
import type { CommitThreadData } from './commit-protocol.js';

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
  const ctrl = new Int32Array(workerData.sab, 0, ${CTRL_SLOTS});
  const text = Buffer.from('log commit thread failed to start: ' + (e && e.stack || e));
  new Uint8Array(workerData.sab, ${CTRL_SLOTS * 4}, ${ERROR_BYTES}).set(text.subarray(0, ${ERROR_BYTES}));
  Atomics.store(ctrl, ${CTRL_ERROR_LENGTH}, Math.min(${ERROR_BYTES}, text.length));
  Atomics.store(ctrl, ${CTRL_ERROR}, 1);
  Atomics.notify(ctrl, ${CTRL_READY});
  Atomics.notify(ctrl, 0);
});`;

/** `#flushState` when everything up to the target is committed, or when the thread failed. */
const FLUSHED = -1;
const FAILED = -2;

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
 * The training thread's side of a run's commit thread: starts it, and waits on it (readiness,
 * flushes, exit) through the ring's control block. What goes into the ring is the appender's.
 *
 * @example
 * ```ts
 * const thread = new CommitThreadHandle(producer, data);
 * await thread.flush(nextSeq);
 * thread.stop();
 * const failed = await thread.exit();
 * ```
 */
export class CommitThreadHandle {
  readonly #producer: RingProducer;
  readonly #ctrl: Int32Array;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  /** Where the commit thread reports a failed projection (null without an observer). */
  readonly #errors: MessagePort | null;
  #projectionError: ProjectionWriteError | null = null;
  /** Why the thread died, when it crashed rather than reporting through the control block. */
  #crash: string | undefined;

  /** Starts the thread; `data.errorPort` is made here when `data.observer` is set. */
  constructor(producer: RingProducer, data: Omit<CommitThreadData, 'errorPort'>) {
    this.#producer = producer;
    this.#ctrl = producer.ctrl;
    // An observer reports failures on a port the training thread can read synchronously.
    const channel = data.observer !== null ? new MessageChannel() : null;
    this.#errors = channel?.port1 ?? null;
    this.#errors?.unref();
    const workerData: CommitThreadData = { ...data, errorPort: channel?.port2 ?? null };
    this.#worker = new Worker(bootstrap, { eval: true, workerData, transferList: channel ? [channel.port2] : [] });
    this.#worker.unref();
    // Training starts at once: the thread opens the database while the first steps run, and
    // their batches wait in the ring meanwhile. A thread that cannot write reports it through
    // the control block, which every step checks, so the first step after it throws
    // LogWriteError: a run's metrics are never dropped silently.
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('error', (e) => {
      if (Atomics.load(this.#ctrl, CTRL_ERROR) === 0) {
        Atomics.store(this.#ctrl, CTRL_ERROR, 1);
        this.#crash = `log commit thread crashed: ${e.message}`;
      }
    });
  }

  /** Resolves once the thread has opened the log and commits; rejects with LogWriteError if it could not. */
  async ready(): Promise<void> {
    const ctrl = this.#ctrl;
    while (Atomics.load(ctrl, CTRL_READY) === 0 && Atomics.load(ctrl, CTRL_ERROR) === 0) await waitFor(ctrl, CTRL_READY, 0);
    if (Atomics.load(ctrl, CTRL_READY) === 0) this.throwFailure();
  }

  /** Whether the thread sleeps until the training thread wakes it, rather than polling. */
  get asleep(): boolean {
    return Atomics.load(this.#ctrl, CTRL_SLEEPING) !== 0;
  }

  /** Batches with seq below this are committed. */
  get committedSeq(): number {
    return Atomics.load(this.#ctrl, CTRL_COMMITTED_SEQ);
  }

  /** Whether the thread failed: nothing more commits. */
  get failed(): boolean {
    return Atomics.load(this.#ctrl, CTRL_ERROR) !== 0;
  }

  /** The error of a metric writer that failed on the thread, if one did (one atomic load while none has). */
  projectionError(): ProjectionWriteError | null {
    if (this.#projectionError === null && Atomics.load(this.#ctrl, CTRL_PROJECTION_ERROR) !== 0) {
      const m = this.#errors === null ? undefined : receiveMessageOnPort(this.#errors);
      this.#projectionError = new ProjectionWriteError(m === undefined ? 'a metric writer on the log commit thread failed' : String(m.message));
    }
    return this.#projectionError;
  }

  /** Throws the thread's failure as a LogWriteError. */
  throwFailure(): never {
    const text = this.#crash ?? this.#producer.errorText();
    throw new LogWriteError(`appending to the log failed: ${text}; batches before seq ${this.committedSeq} are committed`);
  }

  /** Blocks until every batch below `target` is committed and the ring is empty. */
  flushSync(target: number): void {
    let state = this.#requestFlush(target);
    while (state >= 0) {
      Atomics.wait(this.#ctrl, CTRL_COMMITTED_SEQ, state, 20);
      state = this.#flushState(target);
    }
    if (state === FAILED) this.throwFailure();
  }

  /** `flushSync` without blocking the thread. */
  async flush(target: number): Promise<void> {
    let state = this.#requestFlush(target);
    while (state >= 0) {
      await waitFor(this.#ctrl, CTRL_COMMITTED_SEQ, state);
      state = this.#flushState(target);
    }
    if (state === FAILED) this.throwFailure();
  }

  /** Asks the thread to commit up to `target` now (not at its next group commit), and returns `#flushState`. */
  #requestFlush(target: number): number {
    Atomics.store(this.#ctrl, CTRL_FLUSH_TO, target);
    Atomics.notify(this.#ctrl, CTRL_FLUSH_TO);
    return this.#flushState(target);
  }

  /** FLUSHED, FAILED, or the committed seq to wait for a change of. */
  #flushState(target: number): number {
    const ctrl = this.#ctrl;
    if (Atomics.load(ctrl, CTRL_ERROR) !== 0) return FAILED;
    const committed = Atomics.load(ctrl, CTRL_COMMITTED_SEQ);
    return committed >= target && Atomics.load(ctrl, CTRL_USED) === 0 ? FLUSHED : committed;
  }

  /** Tells the thread to exit once the ring is drained. */
  stop(): void {
    Atomics.store(this.#ctrl, CTRL_CLOSED, 1);
    Atomics.notify(this.#ctrl, CTRL_USED);
  }

  /** Waits for the thread to exit (after `stop`); returns the failure of a writer it ran, if any. */
  async exit(): Promise<ProjectionWriteError | null> {
    this.#worker.ref();
    await this.#exited;
    // Writers on the commit thread write last at close: their failure fails the close.
    const failed = this.projectionError();
    this.#errors?.close();
    return failed;
  }
}
