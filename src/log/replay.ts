import { decodeBatch } from './batch-codec.js';
import type { LogFile } from './log-file.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import type { TrainEvent } from '../events/train-event.js';
import { evolveAll } from '../storage/evolve.js';
import { initialState, type StorageState } from '../storage/storage-state.js';
import type { SnapshotCache } from './snapshot-cache.js';

export interface ReplayOptions {
  /**
   * Stop right after step `untilIter` (the state a live run had once step N was over and
   * `storage.iter` became N + 1). Default: the end of the log.
   */
  readonly untilIter?: number;
  /**
   * Called before every event other than scalars and steps, with the state just before it. Writers
   * regenerate their files from the `writer-cursor` events this way, seeing exactly the state
   * the live writer saw.
   */
  readonly onEvent?: (stateBefore: StorageState, e: TrainEvent) => void;
  /** Also call `onEvent` before every step event (what a live afterStep hook saw). */
  readonly withSteps?: boolean;
  /** A snapshot cache to start from (and fill). Ignored when `onEvent` is given. */
  readonly cache?: SnapshotCache | null;
}

/** The result of a replay. */
export interface ReplayResult {
  readonly state: StorageState;
  /** Seq of the last batch folded, or -1. */
  readonly lastSeq: number;
  /** Whether `untilIter` was reached (always true without it). */
  readonly reached: boolean;
}

/**
 * Rebuilds a run's EventStorage state from its log, following the live timeline (batches of
 * iterations abandoned by a resume are skipped), through the same `evolveAll` the live storage
 * uses.
 *
 * @example
 * ```ts
 * const { state } = replayRun(log, log.run('demo').id, { untilIter: 99 });
 * latestOf(state);
 * ```
 */
export function replayRun(log: LogFile, runId: number, options: ReplayOptions = {}): ReplayResult {
  const until = options.untilIter;
  if (until !== undefined && (!Number.isInteger(until) || until < 0)) {
    throw new InvalidArgumentError(`untilIter must be a non-negative integer iteration, got ${String(until)}`);
  }
  const names = log.names(runId);
  const ranges = log.timeline(runId);
  const onEvent = options.onEvent;
  const withSteps = options.withSteps ?? false;
  const cache = onEvent ? null : (options.cache ?? null);
  let state = initialState();
  let lastSeq = -1;
  let startSeq = 0;
  if (cache) {
    const snap = cache.nearest(runId, ranges, until);
    if (snap) {
      state = snap.state;
      lastSeq = snap.seq;
      startSeq = snap.seq + 1;
      // The snapshot may be exactly the state after step `until`.
      if (until !== undefined && state.iter - 1 === until) return { state, lastSeq, reached: true };
    }
  }
  let pending: TrainEvent[] = [];
  const flush = (): void => {
    if (pending.length > 0) {
      state = evolveAll(state, pending);
      pending = [];
    }
  };
  for (const range of ranges) {
    if (range.to < startSeq) continue;
    for (const batch of log.batches(runId, Math.max(range.from, startSeq), range.to)) {
      const events = decodeBatch(batch.body, names);
      if (onEvent) {
        for (const e of events) {
          if (e.type !== 'scalar' && (e.type !== 'step' || withSteps)) {
            flush();
            onEvent(state, e);
          }
          pending.push(e);
        }
      } else {
        for (const e of events) pending.push(e);
      }
      // Folding a few hundred events at a time keeps the transition's one-time copies amortized.
      if (pending.length >= 512) flush();
      lastSeq = batch.seq;
      if (cache && batch.stepIter !== null && cache.wants(batch.stepIter + 1)) {
        flush();
        cache.offer(runId, batch.seq, state);
      }
      if (until !== undefined && batch.stepIter === until) {
        flush();
        return { state, lastSeq, reached: true };
      }
    }
  }
  flush();
  return { state, lastSeq, reached: until === undefined };
}
