import type { MetricWriter } from './metric-writer.js';
import type { LogFile } from '../log/log-file.js';
import { replayRun } from '../log/replay.js';
import { visitBatch, visitRecords, type BatchVisitor } from '../log/batch-codec.js';
import type { StorageState } from '../storage/storage-state.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

export interface ReplayWritersOptions {
  /** Stop after step `untilIter`. */
  readonly untilIter?: number;
  /**
   * Write at the write points recorded for this writer id (a live writer's `writer-cursor`
   * events). Default: each writer's own id. When the log has none, writers write every
   * `period` iterations, at the last one, and at the end, as PeriodicWriter does.
   */
  readonly follow?: string;
  readonly period?: number;
  /** `recordedWriterIds` of the run, when the caller has them already (saves reading the log twice). */
  readonly recorded?: readonly string[];
}

/**
 * Writer ids that have recorded write points in a run.
 *
 * @example
 * ```ts
 * recordedWriterIds(log, 1); // ['json:runs/metrics.json']
 * ```
 */
export function recordedWriterIds(log: LogFile, runId: number): string[] {
  const ids = new Set<string>();
  const visitor: BatchVisitor = {
    scalar() {},
    step() {},
    json(e) {
      if (e.type === 'writer-cursor') ids.add(e.data.writer);
    },
  };
  // Only batches with a cursor are decoded: SQLite finds them by their bytes.
  for (const b of log.batchesHolding(runId, '"writer-cursor"')) visitBatch(b.body, visitor);
  return [...ids];
}

/**
 * Regenerates writers' output from a log, without training: each writer sees, at each write
 * point, exactly the storage state the live writer saw, so its output is identical to the live
 * one (for a run that never crashed: byte for byte; for a resumed run: what an uninterrupted run
 * would have written).
 *
 * @example
 * ```ts
 * const log = LogFile.open('runs/demo.sqlite', { readonly: true });
 * replayWriters(log, log.run('demo').id, [new JSONWriter('out/metrics.json', { id: 'json:runs/metrics.json' })]);
 * ```
 */
export function replayWriters(log: LogFile, runId: number, writers: readonly MetricWriter[], options: ReplayWritersOptions = {}): StorageState {
  const period = options.period ?? 20;
  if (!Number.isInteger(period) || period < 1) throw new InvalidArgumentError(`period must be a positive integer, got ${String(period)}`);
  const recorded = new Set(options.recorded ?? recordedWriterIds(log, runId));
  const plan = writers.map((w) => {
    const trigger = options.follow ?? w.id;
    return { w, trigger, periodic: !recorded.has(trigger) };
  });
  const anyPeriodic = plan.some((p) => p.periodic);
  let maxIter = Infinity;
  const { state } = replayRun(log, runId, {
    untilIter: options.untilIter,
    withSteps: anyPeriodic,
    onEvent: (before, e) => {
      if (e.type === 'run-started') maxIter = e.data.maxIter ?? Infinity;
      for (const p of plan) {
        if (e.type === 'writer-cursor' && !p.periodic && e.data.writer === p.trigger) p.w.write(before);
        else if (e.type === 'resumed') p.w.restore(before.info.writerCursors[p.w.id] ?? null, e.data);
        else if (e.type === 'run-started') p.w.begin?.(e.data);
        else if (e.type === 'step' && p.periodic && ((e.data.iter + 1) % period === 0 || e.data.iter === maxIter - 1)) p.w.write(before);
      }
    },
  });
  for (const p of plan) {
    if (p.periodic) p.w.write(state);
    p.w.close();
  }
  return state;
}
