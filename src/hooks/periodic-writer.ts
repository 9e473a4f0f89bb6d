import { HookBase } from '../engine/hook-base.js';
import type { MetricWriter } from '../writers/metric-writer.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * Runs writers every `period` iterations (`(iter + 1) % period === 0`), at the last iteration,
 * and once more after training (closing them, also after a failure). After each write the
 * writer's cursor goes into the log, and on a resumed run each writer continues from the
 * cursor of the rebuilt state: nothing is written twice, nothing is skipped.
 *
 * @example
 * ```ts
 * trainer.register(new PeriodicWriter([new CommonMetricPrinter(maxIter), new JSONWriter('out/metrics.json')], 20));
 * ```
 */
export class PeriodicWriter extends HookBase {
  readonly writers: readonly MetricWriter[];
  readonly period: number;

  constructor(writers: readonly MetricWriter[], period = 20) {
    super();
    if (!Number.isInteger(period) || period < 1) throw new InvalidArgumentError(`PeriodicWriter period must be a positive integer, got ${String(period)}`);
    const ids = new Set<string>();
    for (const w of writers) {
      if (ids.has(w.id)) throw new InvalidArgumentError(`two writers share the id ${JSON.stringify(w.id)}; give one an explicit id`);
      ids.add(w.id);
    }
    this.writers = writers;
    this.period = period;
  }

  override beforeTrain(): void {
    const info = this.trainer.storage.state.info;
    const resume = info.resumes.at(-1);
    // A run resumed by this train() call: continue each writer from its recorded position.
    if (resume !== undefined && resume.iter + 1 === this.trainer.startIter) {
      for (const w of this.writers) w.restore(info.writerCursors[w.id] ?? null, resume);
    }
  }

  /** Writes with every writer and records the cursors that moved. */
  writeAll(): void {
    const storage = this.trainer.storage;
    for (const w of this.writers) {
      const before = w.cursor();
      const events = w.write(storage.state);
      if (events) for (const e of events) storage.append(e);
      const after = w.cursor();
      if (after.iter !== before.iter || JSON.stringify(after.detail) !== JSON.stringify(before.detail)) {
        storage.append({ type: 'writer-cursor', v: 1, data: { writer: w.id, iter: after.iter, detail: after.detail } });
      }
    }
  }

  override afterStep(): void {
    const t = this.trainer;
    if ((t.iter + 1) % this.period === 0 || t.iter === t.maxIter - 1) this.writeAll();
  }

  override afterTrain(): void {
    let error: unknown = null;
    try {
      // Data put by other afterTrain hooks (a final eval) still gets written.
      this.writeAll();
    } catch (e) {
      error = e;
    }
    for (const w of this.writers) {
      try {
        w.close();
      } catch (e) {
        error ??= e;
      }
    }
    if (error !== null) throw error;
  }
}
