/**
 * Everything the log records, as one tagged union `{ type, v, data }`.
 *
 * `v` is the schema version of that event type: a reader that meets a version it does not know
 * refuses the log instead of guessing. The storage state is a pure fold of these events
 * (see `evolve`), so anything that must survive a replay has to be an event here.
 */

/** Where and by what a run was produced; recorded once, in `run-started`. */
export interface HostInfo {
  readonly hostname: string;
  readonly platform: string;
  readonly node: string;
  readonly pid: number;
  readonly tfjs?: string | undefined;
  readonly backend?: string | undefined;
  readonly git?: string | undefined;
}

export interface RunStartedData {
  readonly name: string;
  readonly config: unknown;
  readonly startIter: number;
  readonly maxIter?: number | undefined;
  /** Samples each metric history keeps (EventStorage `maxLength`); replay uses the same. */
  readonly historyMaxLength?: number | undefined;
  readonly wallTime: number;
  readonly host: HostInfo;
}

export interface ScalarData {
  readonly name: string;
  readonly value: number;
  readonly smoothingHint: boolean;
  readonly iter: number;
}

export interface StepData {
  /** The iteration that just finished; storage.iter becomes `iter + 1`. */
  readonly iter: number;
  readonly wallTime: number;
}

export interface HistogramData {
  readonly name: string;
  readonly iter: number;
  readonly min: number;
  readonly max: number;
  readonly num: number;
  readonly sum: number;
  readonly sumSquares: number;
  readonly bucketLimits: readonly number[];
  readonly bucketCounts: readonly number[];
}

export interface ImageData {
  readonly name: string;
  readonly iter: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Row-major HWC uint8 pixels, base64-encoded so the event stays JSON. */
  readonly pixels: string;
}

export interface CheckpointSavedData {
  readonly iter: number;
  readonly name: string;
  readonly path: string;
}

export interface ResumedData {
  /** The live timeline continues from the state right after step `iter`. */
  readonly iter: number;
  /** Log position (batch seq) of that step, so readers can cut the timeline without a scan. */
  readonly toSeq: number;
  readonly wallTime: number;
}

export interface WriterCursorData {
  readonly writer: string;
  /** Newest iteration the writer has written. */
  readonly iter: number;
  /** Writer-specific position (e.g. samples written per metric), JSON. */
  readonly detail?: unknown;
}

/**
 * The writers named are due (a PeriodicWriter's write point) and run on the log's writer
 * thread: that thread writes them with the state folded up to here and puts their
 * `writer-cursor` events in this event's place. It never reaches the log; it folds to nothing.
 */
export interface WritePointData {
  readonly writers: readonly string[];
}

export interface HookFailedData {
  readonly hook: string;
  readonly phase: string;
  readonly iter: number;
  readonly message: string;
  readonly stack?: string | undefined;
}

export interface RunEndedData {
  readonly iter: number;
  readonly wallTime: number;
}

export interface RunFailedData extends RunEndedData {
  readonly message: string;
  readonly stack?: string | undefined;
}

export interface RunStoppedData extends RunEndedData {
  readonly reason: string;
}

type Ev<T extends string, D> = { readonly type: T; readonly v: 1; readonly data: D };

export type RunStartedEvent = Ev<'run-started', RunStartedData>;
export type ScalarEvent = Ev<'scalar', ScalarData>;
export type StepEvent = Ev<'step', StepData>;
export type HistogramEvent = Ev<'histogram', HistogramData>;
export type ImageEvent = Ev<'image', ImageData>;
export type CheckpointSavedEvent = Ev<'checkpoint-saved', CheckpointSavedData>;
export type ResumedEvent = Ev<'resumed', ResumedData>;
export type WriterCursorEvent = Ev<'writer-cursor', WriterCursorData>;
export type WritePointEvent = Ev<'write-point', WritePointData>;
export type HookFailedEvent = Ev<'hook-failed', HookFailedData>;
export type RunCompletedEvent = Ev<'run-completed', RunEndedData>;
export type RunFailedEvent = Ev<'run-failed', RunFailedData>;
export type RunStoppedEvent = Ev<'run-stopped', RunStoppedData>;

export type TrainEvent =
  | RunStartedEvent
  | ScalarEvent
  | StepEvent
  | HistogramEvent
  | ImageEvent
  | CheckpointSavedEvent
  | ResumedEvent
  | WriterCursorEvent
  | WritePointEvent
  | HookFailedEvent
  | RunCompletedEvent
  | RunFailedEvent
  | RunStoppedEvent;

export type TrainEventType = TrainEvent['type'];

/** The event versions this build reads and writes. */
export const EVENT_VERSIONS: Readonly<Record<TrainEventType, number>> = {
  'run-started': 1,
  scalar: 1,
  step: 1,
  histogram: 1,
  image: 1,
  'checkpoint-saved': 1,
  resumed: 1,
  'writer-cursor': 1,
  'write-point': 1,
  'hook-failed': 1,
  'run-completed': 1,
  'run-failed': 1,
  'run-stopped': 1,
};

/**
 * Builds an event of the current version.
 *
 * @example
 * ```ts
 * const e = event('step', { iter: 4, wallTime: Date.now() / 1000 });
 * ```
 */
export function event<T extends TrainEventType>(
  type: T,
  data: Extract<TrainEvent, { type: T }>['data'],
): Extract<TrainEvent, { type: T }> {
  return { type, v: 1, data } as Extract<TrainEvent, { type: T }>;
}
