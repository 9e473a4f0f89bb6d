import { BatchEncoder, visitBatch, type BatchVisitor } from '../log/batch-codec.js';
import { LogCorruptError } from '../log/errors.js';
import { LogFile } from '../log/log-file.js';
import { replayRun } from '../log/replay.js';
import { StateFold } from '../storage/state-fold.js';
import { MAX_PENDING, produceAt } from '../storage/produce-policy.js';
import { initialState, type StorageState } from '../storage/storage-state.js';
import { event, type ResumedData, type RunStartedData, type WriterCursorData } from '../events/train-event.js';
import { cursorMoved, type MetricWriter, type WriterSpec } from './metric-writer.js';
import type { CommitObserver, CommitObserverContext, CommitObserverSpec } from '../log/commit-observer.js';

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Metric writers run as projections of the log, on the log's commit thread: every batch handed
 * to that thread is folded here by the reducer the training thread uses (`StateFold`), and at
 * each `write-point` record the writers it names write the state folded up to it, exactly what
 * they would have seen on the training thread at that point. The write point is then replaced,
 * in the batch about to be committed, by the `writer-cursor` events of those writers, so the log
 * reads as if they had run live: replay, resume and `tail` work unchanged.
 *
 * Files are written before the batch carrying their cursors commits: a crash in between leaves
 * lines past the last committed cursor, which a resumed writer drops (`restore`), as on the
 * training thread.
 *
 * A writer that throws is reported once through `onError` and written no more; the log itself
 * goes on (its commits do not depend on the writers).
 *
 * @example
 * ```ts
 * const p = await LogProjections.load([new JSONWriter('out/metrics.json').spec()], { path, runId, names: [], onError });
 * const replacement = p.batch(body); // null: commit `body` as it is
 * p.close();
 * ```
 */
export class LogProjections implements CommitObserver {
  readonly #writers: ReadonlyMap<string, MetricWriter>;
  readonly #path: string;
  readonly #runId: number;
  readonly #names: string[];
  readonly #onError: (message: string) => void;
  #fold = new StateFold(initialState());
  /** Events folded since the last produced state, and the count at which one is produced unasked. */
  #pending = 0;
  #produceAt = MAX_PENDING;
  #failed = false;
  readonly #encoder = new BatchEncoder();
  /**
   * The walk in progress: whether it folds (no writer had failed when it began; otherwise it
   * only cuts write points out), the body's parts so far with a write point's bytes replaced,
   * and the end of the body bytes already in `#parts`.
   */
  #body = EMPTY;
  #folding = false;
  #parts: Uint8Array[] | null = null;
  #copied = 0;
  /** One visitor for every batch: walking a batch allocates nothing per record. */
  readonly #visitor: BatchVisitor = {
    scalar: (id, smoothingHint, iter, value) => {
      if (!this.#folding) return;
      const name = this.#names[id];
      if (name === undefined) throw new LogCorruptError(`scalar refers to metric name id ${id}, which the log does not define`);
      this.#fold.scalar(name, value, smoothingHint, iter);
      this.#folded();
    },
    step: (iter, wallTime) => {
      if (!this.#folding) return;
      this.#fold.step(iter, wallTime);
      this.#folded();
    },
    json: (e, at, end) => {
      if (e.type === 'write-point') {
        (this.#parts ??= []).push(this.#body.subarray(this.#copied, at), this.#write(e.data.writers));
        this.#copied = end;
      } else if (this.#folding) {
        if (e.type === 'resumed') this.#resume(e.data);
        else if (e.type === 'run-started') this.#begin(e.data);
        this.#fold.apply(e);
      }
      if (this.#folding) this.#folded();
    },
  };

  private constructor(writers: ReadonlyMap<string, MetricWriter>, options: LogProjectionsOptions) {
    this.#writers = writers;
    this.#path = options.path;
    this.#runId = options.runId;
    this.#names = [...options.names];
    this.#onError = options.onError;
  }

  /**
   * Builds the writers from their specs (importing their modules).
   *
   * @example
   * ```ts
   * const p = await LogProjections.load(specs, { path: 'runs/x.sqlite', runId: 1, names: [], onError: console.error });
   * ```
   */
  static async load(specs: readonly WriterSpec[], options: LogProjectionsOptions): Promise<LogProjections> {
    const writers = new Map<string, MetricWriter>();
    for (const spec of specs) {
      let ctor: unknown;
      try {
        ctor = ((await import(spec.module)) as Record<string, unknown>)[spec.exportName];
      } catch (e) {
        throw new Error(`cannot load writer ${spec.exportName} from ${spec.module}: ${(e as Error).message}`);
      }
      if (typeof ctor !== 'function') throw new Error(`${spec.module} exports no writer class named ${spec.exportName}`);
      const w = new (ctor as new (...args: unknown[]) => MetricWriter)(...spec.args);
      if (writers.has(spec.id)) throw new Error(`two writers share the id ${JSON.stringify(spec.id)}; give one an explicit id`);
      if (w.id !== spec.id) throw new Error(`writer ${spec.exportName} built from its spec has id ${JSON.stringify(w.id)}, not ${JSON.stringify(spec.id)}`);
      writers.set(w.id, w);
    }
    return new LogProjections(writers, options);
  }

  /** A metric name the log defined (id order). */
  name(id: number, name: string): void {
    this.#names[id] = name;
  }

  /**
   * Folds one batch body. Returns the body to commit in its place when it held a write point
   * (the write point replaced by the writers' cursors), else null.
   */
  batch(body: Uint8Array): Uint8Array | null {
    if (!this.#failed) {
      try {
        return this.#walk(body, true);
      } catch (e) {
        // The log must not depend on the writers: report, and commit the batch as it came.
        this.#fail(e);
      }
    }
    // After a failure, write points still must not reach the log; a body that cannot be walked
    // is committed as it came, for readers to report.
    try {
      return this.#walk(body, false);
    } catch {
      return null;
    }
  }

  /** Walks a batch (folding it, or not); returns it with its write points replaced, or null if it had none. */
  #walk(body: Uint8Array, folding: boolean): Uint8Array | null {
    this.#body = body;
    this.#folding = folding;
    this.#copied = 0;
    try {
      visitBatch(body, this.#visitor);
      const parts = this.#parts;
      if (parts === null) return null;
      parts.push(body.subarray(this.#copied));
      return Buffer.concat(parts);
    } finally {
      // Every walk starts with no parts: none left from one that threw.
      this.#body = EMPTY;
      this.#parts = null;
    }
  }

  #folded(): void {
    if (++this.#pending >= this.#produceAt) this.#produce();
  }

  #produce(): StorageState {
    const state = this.#fold.finish();
    this.#pending = 0;
    this.#produceAt = produceAt(state.metrics.names.length);
    return state;
  }

  /** Writes with the writers named; returns the encoded cursor events that replace the write point. */
  #write(ids: readonly string[]): Uint8Array {
    const enc = this.#encoder;
    enc.reset();
    if (this.#failed) return enc.take();
    const state = this.#produce();
    const cursors: WriterCursorData[] = [];
    try {
      for (const id of ids) {
        const w = this.#writers.get(id);
        if (w === undefined) throw new Error(`no writer ${JSON.stringify(id)} runs on the log's commit thread`);
        const before = w.cursor();
        const events = w.write(state);
        if (events && events.length > 0) throw new Error(`writer ${id} returned events to record; a writer that records events must run on the training thread (give it no spec())`);
        const after = w.cursor();
        // As on the training thread: a cursor only when it moved.
        if (cursorMoved(before, after)) {
          cursors.push({ writer: w.id, iter: after.iter, ...(after.detail === undefined ? {} : { detail: after.detail }) });
        }
      }
    } catch (e) {
      this.#fail(e);
    }
    for (const data of cursors) {
      const c = event('writer-cursor', data);
      enc.json(c);
      // The cursor is part of the state from here on, as it is on replay.
      this.#fold.apply(c);
    }
    return enc.take();
  }

  /**
   * A resumed run: the state after the resumed step is rebuilt from the log (this thread folds
   * only what this writer hands over), and each writer continues from its cursor in it.
   */
  #resume(resume: ResumedData): void {
    const log = LogFile.open(this.#path, { readonly: true });
    try {
      const { state } = replayRun(log, this.#runId, { untilIter: resume.iter });
      this.#fold = new StateFold(state);
      this.#pending = 0;
      this.#produceAt = produceAt(state.metrics.names.length);
      for (const w of this.#writers.values()) w.restore(state.info.writerCursors[w.id] ?? null, resume);
    } catch (e) {
      this.#fail(e);
    } finally {
      log.close();
    }
  }

  /** A fresh run: each writer drops what its output holds from the run's start iteration on. */
  #begin(run: RunStartedData): void {
    try {
      for (const w of this.#writers.values()) w.begin?.(run);
    } catch (e) {
      this.#fail(e);
    }
  }

  #fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#onError(`a metric writer on the log's commit thread failed: ${(e as Error)?.message ?? String(e)}`);
  }

  /** Closes every writer (after the last batch). */
  close(): void {
    for (const w of this.#writers.values()) {
      try {
        w.close();
      } catch (e) {
        this.#fail(e);
      }
    }
  }
}

/** What the projections are told about the run (the commit thread's context). */
export type LogProjectionsOptions = CommitObserverContext;

/**
 * The commit-observer spec that runs these writers as projections on the log's commit thread
 * (what the trainer passes as `LogAppenderOptions.observer`), or null for no writers.
 *
 * @example
 * ```ts
 * log.createRun({ name: 'r' }, { observer: projectionObserver([new JSONWriter('out/m.json').spec()]) });
 * ```
 */
export function projectionObserver(specs: readonly WriterSpec[]): CommitObserverSpec | null {
  return specs.length === 0 ? null : { module: import.meta.url, exportName: 'loadLogProjections', args: specs };
}

/** @internal The commit thread's entry point (see projectionObserver). */
export async function loadLogProjections(args: unknown, context: CommitObserverContext): Promise<LogProjections> {
  return LogProjections.load(args as readonly WriterSpec[], context);
}
