import type { MessagePort } from 'node:worker_threads';
import type { CommitObserverSpec } from './commit-observer.js';
/**
 * Messages from a run's writer (training thread) to the log's commit thread, carried by the ring.
 * Kept in one place so both ends agree on the bytes.
 */
export const MSG_BATCH = 1;
export const MSG_NAME = 2;

/** Bytes of a batch message header: u8 kind, u32 seq, i32 step iter, i32 rewind-to iter, i32 rewind-to seq. */
export const BATCH_HEADER_BYTES = 17;
/** Bytes of a name message header: u8 kind, u32 id (the UTF-8 name follows). */
export const NAME_HEADER_BYTES = 5;

/** What the commit thread is started with. */
export interface CommitThreadData {
  readonly path: string;
  readonly runId: number;
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly synchronous: 'NORMAL' | 'FULL';
  readonly groupMs: number;
  /** Extra PRAGMAs for the writer's connection (fault tests: max_page_count, query_only). */
  readonly pragmas: readonly string[];
  /** Checkpoint once the WAL holds this many bytes of pages. */
  readonly walMaxBytes: number;
  /** Checkpoint at least this often while commits are waiting to be folded in. */
  readonly checkpointEveryMs: number;
  /** The module that sees each batch before it commits (metric-writer projections), if any. */
  readonly observer: CommitObserverSpec | null;
  /** Names the run already defined, by id (a resumed run). */
  readonly names: readonly string[];
  /** Where the thread reports a failed projection (the training thread reads it synchronously). */
  readonly errorPort: MessagePort | null;
}
