import type { ResumedData, RunStartedData, TrainEvent, WriterCursorData } from '../events/train-event.js';
import type { StorageState } from '../storage/storage-state.js';

/** A writer's position, as recorded in the log by `writer-cursor` events. */
export type WriterCursor = Pick<WriterCursorData, 'iter' | 'detail'>;

/**
 * A writer of metrics (detectron2's EventWriter). `write` is called with the storage state at
 * each write point: live by `PeriodicWriter`, or offline by `replayWriters` at the same points,
 * which is why a writer reads nothing but the state it is given, and why its output from a
 * replayed log equals the live output.
 *
 * After each write, `PeriodicWriter` records `cursor()` in the log. When a run is resumed, each
 * writer gets `restore` with its cursor as of the resumed state, so no iteration is written
 * twice and none is missed. When a fresh run starts, each writer gets `begin`: the run owns its
 * iterations from `startIter` on, so output left there by an earlier process (one killed
 * before its first checkpoint, then started again) is dropped, not written twice.
 */
export interface MetricWriter {
  /** Stable id, unique among a trainer's writers (e.g. `json:metrics.json`). */
  readonly id: string;
  /**
   * Writes what is new in `state`. May return events to record (e.g. the printer's
   * `eta_seconds`); they are appended live and already in the log on replay.
   */
  write(state: StorageState): readonly TrainEvent[] | void;
  /** The writer's position, recorded in the log after each write. */
  cursor(): WriterCursor;
  /** Continue a resumed run from `cursor` (null: the writer had written nothing yet). */
  restore(cursor: WriterCursor | null, resume: ResumedData): void;
  /**
   * A fresh run (not a resume) starts: forget any position, and drop what the output holds for
   * iterations `run.startIter` and later. Writers with no lasting output need none.
   */
  begin?(run: RunStartedData): void;
  close(): void;
  /**
   * Whether this writer exports the storage's images and histograms: PeriodicWriter then clears
   * them from the storage after each of its write points (detectron2's TensorboardXWriter calls
   * `storage.clear_images()`), recorded as a `media-cleared` event so a replay clears them too.
   */
  readonly writesMedia?: boolean;
  /**
   * How to build this writer on another thread, if it can run there. A writer with a spec runs
   * on the log's commit thread when its PeriodicWriter's trainer has a log (see PeriodicWriter):
   * it is then a projection of the log, off the training thread. Only a writer whose `write`
   * returns no events can have one (events it returned could not reach the live storage).
   */
  spec?(): WriterSpec;
}

/**
 * A writer, as a recipe another thread can follow: `new (await import(module))[exportName](...args)`.
 * `args` must survive structured cloning (plain data).
 *
 * @example
 * ```ts
 * const spec: WriterSpec = { id: 'json:out/metrics.json', module: import.meta.url, exportName: 'JSONWriter', args: ['out/metrics.json', { window: 20 }] };
 * ```
 */
export interface WriterSpec {
  /** The writer's `id` (what write points name). */
  readonly id: string;
  /** URL of the module that exports the writer class (usually the writer module's `import.meta.url`). */
  readonly module: string;
  readonly exportName: string;
  readonly args: readonly unknown[];
}

/**
 * Whether a writer's position changed across a write: only then is a `writer-cursor` recorded
 * (by PeriodicWriter on the training thread, by LogProjections on the log's commit thread).
 *
 * @example
 * ```ts
 * const before = w.cursor(); w.write(state);
 * if (cursorMoved(before, w.cursor())) { ... }
 * ```
 */
export function cursorMoved(before: WriterCursor, after: WriterCursor): boolean {
  return after.iter !== before.iter || JSON.stringify(after.detail) !== JSON.stringify(before.detail);
}
