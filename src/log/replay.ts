import { visitRecords, type BatchVisitor } from './batch-codec.js';
import { LogCorruptError } from './errors.js';
import type { LogFile } from './log-file.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { event, type TrainEvent } from '../events/train-event.js';
import { StateFold } from '../storage/state-fold.js';
import { initialState, type StorageState } from '../storage/storage-state.js';
import { produceAt } from '../storage/produce-policy.js';
import type { SnapshotCache } from './snapshot-cache.js';
import { onTimeline } from './timeline.js';

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
  /**
   * A snapshot cache to start from (and fill). Ignored when `onEvent` is given; with `metrics`,
   * only started from (a filtered state is not a snapshot).
   */
  readonly cache?: SnapshotCache | null;
  /**
   * Fold the scalars of these metrics only (all other events as usual): the state a reader of a
   * few series needs (`plot`), at the cost of walking the other records without folding them.
   */
  readonly metrics?: readonly string[];
  /**
   * A replay of this run made before (its state and `lastSeq`), to go on from rather than from
   * the start or a snapshot: used when its last batch is still on the run's timeline (no resume
   * rewound past it since), else ignored.
   */
  readonly from?: Pick<ReplayResult, 'state' | 'lastSeq'>;
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
 * iterations abandoned by a resume are skipped), through the same reducer the live storage
 * uses (`StateFold`, which `evolveAll` runs), fed straight from the batch decoder.
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
  let names = log.names(runId);
  const ranges = log.timeline(runId);
  const nameOf = (id: number): string => {
    let name = names[id];
    if (name === undefined) {
      // A run still being written may have committed names (with their batches) after we read
      // them: read them again before calling the log corrupt.
      names = log.names(runId);
      name = names[id];
      if (name === undefined) throw new LogCorruptError(`scalar refers to metric name id ${id}, which the log does not define`);
    }
    return name;
  };
  const only = options.metrics === undefined ? null : new Set(options.metrics);
  /** By metric name id: whether `only` holds it (looked up once per id). */
  const wanted: boolean[] = [];
  const onEvent = options.onEvent;
  const withSteps = options.withSteps ?? false;
  const cache = onEvent ? null : (options.cache ?? null);
  let state = initialState();
  let lastSeq = -1;
  let startSeq = 0;
  const from = options.from;
  if (from && !onEvent && !only && from.lastSeq >= 0 && onTimeline(ranges, from.lastSeq) && (until === undefined || from.state.iter - 1 <= until)) {
    state = from.state;
    lastSeq = from.lastSeq;
    startSeq = from.lastSeq + 1;
    if (until !== undefined && state.iter - 1 === until) return { state, lastSeq, reached: true };
  } else if (cache) {
    const snap = cache.nearest(runId, ranges, until, only);
    if (snap) {
      state = snap.state;
      lastSeq = snap.seq;
      startSeq = snap.seq + 1;
      // The snapshot may be exactly the state after step `until`.
      if (until !== undefined && state.iter - 1 === until) return { state, lastSeq, reached: true };
    }
  }
  // Decoded records go straight into an open fold of the reducer (the code evolveAll runs), so
  // scalars and steps never become event objects; the state is produced when someone needs it:
  // a callback, the snapshot cache, the end.
  const fold = new StateFold(state);
  let folded = 0;
  let foldAt = produceAt(state.metrics.names.length);
  const produce = (): void => {
    state = fold.finish();
    folded = 0;
    foldAt = produceAt(state.metrics.names.length);
  };
  // onEvent gets the state just before its event: everything folded up to it is produced first.
  const before = (e: TrainEvent): void => {
    if (onEvent && e.type !== 'scalar' && (e.type !== 'step' || withSteps)) {
      produce();
      onEvent(state, e);
    }
  };
  const visitor: BatchVisitor = {
    scalar(id, smoothingHint, iter, value) {
      if (only !== null && !(wanted[id] ??= only.has(nameOf(id)))) return;
      fold.scalar(nameOf(id), value, smoothingHint, iter);
      folded++;
    },
    step(iter, wallTime) {
      if (onEvent && withSteps) before(event('step', { iter, wallTime }));
      fold.step(iter, wallTime);
      folded++;
    },
    json(e) {
      before(e);
      fold.apply(e);
      folded++;
    },
  };
  for (const range of ranges) {
    if (range.to < startSeq) continue;
    for (const page of log.batchPages(runId, Math.max(range.from, startSeq), range.to)) {
      const { bytes, offsets, seqs, stepIters } = page;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < page.count; i++) {
        visitRecords(bytes, view, offsets[i]!, offsets[i + 1]!, visitor);
        // Producing a state every few thousand events bounds the samples waiting in the fold.
        if (folded >= foldAt) produce();
        lastSeq = seqs[i]!;
        const stepIter = stepIters[i]!;
        if (stepIter < 0) continue;
        if (cache && only === null && cache.wants(stepIter + 1)) {
          produce();
          cache.offer(runId, lastSeq, state);
        }
        if (until !== undefined && stepIter === until) {
          produce();
          return { state, lastSeq, reached: true };
        }
      }
    }
  }
  produce();
  return { state, lastSeq, reached: until === undefined };
}
