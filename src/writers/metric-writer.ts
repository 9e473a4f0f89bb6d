import type { StorageState } from '../storage/storage-state.js';

/**
 * A writer of metrics (detectron2's EventWriter): `write` is called with the storage state at
 * each write point, live by `PeriodicWriter` or offline by `replayWriters`, which is why a
 * writer never reads anything but the state it is given.
 *
 * Writers keep a cursor (what they have written). After each write, `PeriodicWriter` records
 * `cursor()` in the log as a `writer-cursor` event, and a resumed writer starts from the cursor in
 * the rebuilt state (`restore`), so no iteration is ever written twice.
 */
export interface MetricWriter {
  /** Stable id, unique among a trainer's writers (e.g. `json:metrics.json`). */
  readonly id: string;
  write(state: StorageState): void;
  /** The writer's position, as recorded in the log. */
  cursor(): { readonly iter: number; readonly detail?: unknown };
  /** Continue from a recorded position (on resume), instead of from the start. */
  restore(cursor: { readonly iter: number; readonly detail?: unknown }): void;
  close(): void;
}
