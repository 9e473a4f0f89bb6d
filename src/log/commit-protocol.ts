import type { MessagePort } from 'node:worker_threads';
import type { CommitObserverSpec } from './commit-observer.js';
/**
 * Messages from a run's appender (training thread) to the log's commit thread, carried by the
 * ring. Both ends write and read them only through the functions here, so they agree on the bytes.
 *
 * | message | layout (little-endian)                                                   | bytes  |
 * |---------|--------------------------------------------------------------------------|--------|
 * | batch   | u8 kind 1, u32 seq, i32 step iter, i32 rewind-to iter, i32 rewind-to seq, body | 17 + n |
 * | name    | u8 kind 2, u32 id, UTF-8 name                                            | 5 + n  |
 */
export const MSG_BATCH = 1;
export const MSG_NAME = 2;

/** Bytes of a batch message header; the batch body follows. */
export const BATCH_HEADER_BYTES = 17;
/** Bytes of a name message header; the UTF-8 name follows. */
export const NAME_HEADER_BYTES = 5;

/** Step iter of a batch that ends no step (events between steps, a resume). */
export const NO_STEP = -1;
/** Rewind-to iter and seq of a batch that is no resume: `(-2, -1)`, no real rewind's pair. */
export const NO_REWIND_ITER = -2;
export const NO_REWIND_SEQ = -1;

/** A batch message header as read (one object reused by the reader: no allocation per batch). */
export interface BatchHeader {
  seq: number;
  stepIter: number;
  rewindIter: number;
  rewindSeq: number;
}

/**
 * Writes a batch message header at `at`.
 *
 * @example
 * ```ts
 * writeBatchHeader(view, at, seq, iter, NO_REWIND_ITER, NO_REWIND_SEQ);
 * ```
 */
export function writeBatchHeader(view: DataView, at: number, seq: number, stepIter: number, rewindIter: number, rewindSeq: number): void {
  view.setUint8(at, MSG_BATCH);
  view.setUint32(at + 1, seq, true);
  view.setInt32(at + 5, stepIter, true);
  view.setInt32(at + 9, rewindIter, true);
  view.setInt32(at + 13, rewindSeq, true);
}

/**
 * Reads the header of the batch message at `at` into `out`, and returns it.
 *
 * @example
 * ```ts
 * const h = readBatchHeader(view, at, header);
 * if (hasRewind(h)) insertRewind(h.seq, h.rewindIter, h.rewindSeq);
 * ```
 */
export function readBatchHeader(view: DataView, at: number, out: BatchHeader): BatchHeader {
  out.seq = view.getUint32(at + 1, true);
  out.stepIter = view.getInt32(at + 5, true);
  out.rewindIter = view.getInt32(at + 9, true);
  out.rewindSeq = view.getInt32(at + 13, true);
  return out;
}

/** Whether a batch is a resume: its header carries a rewind, not the `(-2, -1)` of none. */
export function hasRewind(h: BatchHeader): boolean {
  return h.rewindIter >= -1 && h.rewindSeq >= 0;
}

/** The kind (MSG_BATCH or MSG_NAME) of the message at `at`. */
export function messageKind(view: DataView, at: number): number {
  return view.getUint8(at);
}

/** Writes a name message at `at` in `data` (`view` is a DataView of `data`): `utf8` is the name. */
export function writeNameMessage(view: DataView, data: Uint8Array, at: number, id: number, utf8: Uint8Array): void {
  view.setUint8(at, MSG_NAME);
  view.setUint32(at + 1, id, true);
  data.set(utf8, at + NAME_HEADER_BYTES);
}

/** The id of the name message at `at`. */
export function readNameId(view: DataView, at: number): number {
  return view.getUint32(at + 1, true);
}

/** The name of the name message of `length` bytes at `at` in `data` (copied: UTF-8 decoding wants unshared memory). */
export function readNameText(data: Uint8Array, at: number, length: number): string {
  return Buffer.from(data.slice(at + NAME_HEADER_BYTES, at + length)).toString('utf8');
}

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
  /** Whether the thread fills the log's snapshot cache as steps commit (`cache-filler.ts`). */
  readonly fillSnapshotCache: boolean;
  /** Names the run already defined, by id (a resumed run). */
  readonly names: readonly string[];
  /** Where the thread reports a failed projection (the training thread reads it synchronously). */
  readonly errorPort: MessagePort | null;
}
