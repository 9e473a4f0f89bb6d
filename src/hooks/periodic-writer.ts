import { HookBase } from '../engine/hook-base.js';
import { cursorMoved, type MetricWriter, type WriterSpec } from '../projections/metric-writer.js';
import { event, type WritePointEvent } from '../events/train-event.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

export interface PeriodicWriterOptions {
  /**
   * Where writers that have a `spec()` (JSONWriter, CSVWriter, TensorBoardWriter) run when the
   * trainer has a log: `'log'` (default) on the log's commit thread, as projections of the log,
   * so formatting and file I/O cost the training thread nothing but a marker per period;
   * `'main'` on the training thread. Writers without a spec (CommonMetricPrinter, your own)
   * and trainers without a log always use the training thread. The output is the same.
   */
  readonly thread?: 'log' | 'main';
}

/**
 * Runs writers every `period` iterations (`(iter + 1) % period === 0`), at the last iteration,
 * and once more after training (closing them, also after a failure). After each write the
 * writer's cursor goes into the log, and on a resumed run each writer continues from the
 * cursor of the rebuilt state: nothing is written twice, nothing is skipped. A fresh run first
 * drops what the writers' files hold from its start iteration on (`MetricWriter.begin`), so a
 * process killed before its first checkpoint and started again leaves no line twice.
 *
 * With a log, writers that can (see `PeriodicWriterOptions.thread`) run on the log's commit
 * thread: at each write point this hook appends a `write-point` marker to the step's batch, and
 * that thread, which folds every batch with the same reducer, writes them with the state folded
 * up to the marker (what they would have seen here) and commits their cursors in its place.
 * Their files then trail training by about a millisecond; `trainer.appender.flush()` (which
 * checkpointers call) and the end of `train()` wait for them. A failed write there fails the
 * step at the next write point (or `train()` at its end) with `ProjectionWriteError`.
 *
 * @example
 * ```ts
 * trainer.register(new PeriodicWriter([new CommonMetricPrinter(maxIter), new JSONWriter('out/metrics.json')], 20));
 * ```
 */
export class PeriodicWriter extends HookBase {
  readonly writers: readonly MetricWriter[];
  readonly period: number;
  readonly thread: 'log' | 'main';
  /** Writers run here during the current run. */
  #local: readonly MetricWriter[] = [];
  /** The marker naming the writers on the log's commit thread, or null if none run there. */
  #point: WritePointEvent | null = null;

  constructor(writers: readonly MetricWriter[], period = 20, options: PeriodicWriterOptions = {}) {
    super();
    if (!Number.isInteger(period) || period < 1) throw new InvalidArgumentError(`PeriodicWriter period must be a positive integer, got ${String(period)}`);
    const thread = options.thread ?? 'log';
    if (thread !== 'log' && thread !== 'main') throw new InvalidArgumentError(`PeriodicWriter thread must be 'log' or 'main', got ${JSON.stringify(thread)}`);
    const ids = new Set<string>();
    for (const w of writers) {
      if (ids.has(w.id)) throw new InvalidArgumentError(`two writers share the id ${JSON.stringify(w.id)}; give one an explicit id`);
      ids.add(w.id);
    }
    this.writers = writers;
    this.period = period;
    this.thread = thread;
    this.#local = writers;
  }

  override logProjections(): readonly WriterSpec[] {
    if (this.thread === 'main') return [];
    const specs: WriterSpec[] = [];
    for (const w of this.writers) if (w.spec) specs.push(w.spec());
    return specs;
  }

  override beforeTrain(): void {
    const onCommitThread = (w: MetricWriter): boolean => this.trainer.runsOnCommitThread(w.id);
    this.#local = this.writers.filter((w) => !onCommitThread(w));
    const remote = this.writers.filter(onCommitThread).map((w) => w.id);
    // One frozen object for the whole run: the log writer encodes it once.
    this.#point = remote.length === 0 ? null : Object.freeze(event('write-point', Object.freeze({ writers: Object.freeze(remote) })));
    const { storage, startIter } = this.trainer.state;
    const info = storage.state.info;
    const resume = info.resumes.at(-1);
    // A run resumed by this train() call: continue each writer from its recorded position
    // (the log's commit thread does the same for the writers it runs).
    if (resume !== undefined && resume.iter + 1 === startIter) {
      for (const w of this.#local) w.restore(info.writerCursors[w.id] ?? null, resume);
    } else if (info.run !== null) {
      // A fresh run: it owns its iterations in each writer's output (the log's thread does the same).
      for (const w of this.#local) w.begin?.(info.run);
    }
  }

  /** Writes with every writer and records the cursors that moved. */
  writeAll(): void {
    const storage = this.trainer.state.storage;
    for (const w of this.#local) {
      const before = w.cursor();
      const events = w.write(storage.state);
      if (events) for (const e of events) storage.append(e);
      const after = w.cursor();
      if (cursorMoved(before, after)) {
        storage.append(event('writer-cursor', { writer: w.id, iter: after.iter, detail: after.detail }));
      }
    }
    if (this.#point !== null) {
      const rw = this.trainer.appender!;
      // A writer that failed on the log's thread fails the run here, at the next write point.
      const failed = rw.projectionError();
      if (failed !== null) throw failed;
      rw.writePoint(this.#point);
    }
    // As detectron2's TensorboardXWriter: written images and histograms leave the storage (logged, so replay agrees).
    if (this.writers.some((w) => w.writesMedia === true)) {
      storage.clearImages();
      storage.clearHistograms();
    }
  }

  override afterStep(): void {
    const { iter, maxIter } = this.trainer.state;
    if ((iter + 1) % this.period === 0 || iter === maxIter - 1) this.writeAll();
  }

  override afterTrain(): void {
    let error: unknown = null;
    try {
      // Data put by other afterTrain hooks (a final eval) still gets written.
      this.writeAll();
    } catch (e) {
      error = e;
    }
    // Writers on the log's thread are closed there, when the trainer closes the log.
    for (const w of this.#local) {
      try {
        w.close();
      } catch (e) {
        error ??= e;
      }
    }
    if (error !== null) throw error;
  }
}
