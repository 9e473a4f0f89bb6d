import { HistoryBuffer } from './history-buffer.js';
import { MetricIndex } from './metric-index.js';
import type {
  CheckpointSavedData,
  HistogramData,
  HookFailedData,
  ImageData,
  ResumedData,
  RunStartedData,
  WriterCursorData,
} from '../events/train-event.js';

/** Where a run stands, as its events say. (`crashed` is decided by readers: see `summarizeRun` in cli/run-summary.) */
export type RunStatus = 'new' | 'running' | 'completed' | 'failed' | 'stopped';

/**
 * The small, structured part of the state: kept as immer state (structural sharing, frozen), and
 * changed only by rare events, so its copy-on-write cost never lands on the per-scalar path.
 */
export interface RunInfoState {
  readonly run: RunStartedData | null;
  readonly status: RunStatus;
  readonly statusDetail: string | null;
  readonly endIter: number | null;
  readonly checkpoints: readonly CheckpointSavedData[];
  readonly writerCursors: Readonly<Record<string, WriterCursorData>>;
  readonly hookFailures: readonly HookFailedData[];
  readonly histograms: readonly HistogramData[];
  readonly images: readonly ImageData[];
  readonly resumes: readonly ResumedData[];
}

/**
 * Metric histories by name. A persistent table: a new version shares every history it did not
 * change, and each `HistoryBuffer` shares its samples with older versions.
 */
export interface MetricsTable {
  /** Names in order of first appearance. */
  readonly names: readonly string[];
  readonly hints: readonly boolean[];
  readonly histories: readonly HistoryBuffer[];
  /**
   * name → position in the arrays above. Never changes: a table with more names has another
   * index (usually a `MetricIndex` sharing its entries with this one's).
   */
  readonly index: ReadonlyMap<string, number>;
}

/**
 * Everything EventStorage knows, produced only by folding events with `evolve`. Immutable: a
 * state held by a caller never changes.
 */
export interface StorageState {
  /** The iteration being run (detectron2's `storage.iter`). */
  readonly iter: number;
  readonly maxLength: number;
  readonly metrics: MetricsTable;
  /** Wall time (seconds) at the end of each finished step, keyed by iteration: the last `maxLength`. */
  readonly stepTimes: HistoryBuffer;
  readonly info: RunInfoState;
}

export interface InitialStateOptions {
  /** Samples a metric's history keeps (fvcore's HistoryBuffer default: 1,000,000). */
  readonly maxLength?: number;
  readonly startIter?: number;
}

/**
 * The state before any event.
 *
 * @example
 * ```ts
 * const s = evolveAll(initialState(), events);
 * ```
 */
export function initialState(options: InitialStateOptions = {}): StorageState {
  const maxLength = options.maxLength ?? 1_000_000;
  return {
    iter: options.startIter ?? 0,
    maxLength,
    metrics: { names: [], hints: [], histories: [], index: MetricIndex.of([]) },
    stepTimes: HistoryBuffer.empty(maxLength),
    info: {
      run: null,
      status: 'new',
      statusDetail: null,
      endIter: null,
      checkpoints: [],
      writerCursors: {},
      hookFailures: [],
      histograms: [],
      images: [],
      resumes: [],
    },
  };
}
