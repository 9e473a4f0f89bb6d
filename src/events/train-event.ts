/**
 * Everything the log records, as one tagged union `{ type, v, data }`.
 *
 * `v` is the schema version of that event type: a reader that meets a version it does not know
 * refuses the log instead of guessing. The storage state is a pure fold of these events
 * (see `evolve`), so anything that must survive a replay has to be an event here.
 */

/** An event: its type, the schema version of that type, and its data. */
type Ev<T extends string, D> = { readonly type: T; readonly v: 1; readonly data: D };

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

/** A new run begins: what it is, and where and by what it runs. */
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
export type RunStartedEvent = TrainEventOf<'run-started'>;

/** One sample of a metric (`putScalar`); `smoothingHint` is fixed by the metric's first sample. */
export interface ScalarData {
  readonly name: string;
  readonly value: number;
  readonly smoothingHint: boolean;
  readonly iter: number;
}
export type ScalarEvent = TrainEventOf<'scalar'>;

export interface StepData {
  /** The iteration that just finished; storage.iter becomes `iter + 1`. */
  readonly iter: number;
  readonly wallTime: number;
}
export type StepEvent = TrainEventOf<'step'>;

/** A histogram summary of a tensor's values at an iteration (`putHistogram`). */
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
export type HistogramEvent = TrainEventOf<'histogram'>;

/** An image recorded for the writers (`putImage`). */
export interface ImageData {
  readonly name: string;
  readonly iter: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Row-major HWC uint8 pixels, base64-encoded so the event stays JSON. */
  readonly pixels: string;
}
export type ImageEvent = TrainEventOf<'image'>;

/**
 * The images and/or histograms put so far leave the state (`clearImages` / `clearHistograms`,
 * detectron2's `clear_images` / `clear_histograms`): PeriodicWriter records one after a write
 * point whose writers export them, so they do not pile up in memory all run.
 */
export interface MediaClearedData {
  readonly images: boolean;
  readonly histograms: boolean;
}
export type MediaClearedEvent = TrainEventOf<'media-cleared'>;

/** `storage.iter = n` (detectron2 hooks set `storage.iter`): the next puts and step are at `iter`. */
export interface IterSetData {
  readonly iter: number;
}
export type IterSetEvent = TrainEventOf<'iter-set'>;

/** A checkpoint was written: where, and after which iteration. */
export interface CheckpointSavedData {
  readonly iter: number;
  readonly name: string;
  readonly path: string;
}
export type CheckpointSavedEvent = TrainEventOf<'checkpoint-saved'>;

export interface ResumedData {
  /** The live timeline continues from the state right after step `iter`. */
  readonly iter: number;
  /** Log position (batch seq) of that step, so readers can cut the timeline without a scan. */
  readonly toSeq: number;
  readonly wallTime: number;
}
export type ResumedEvent = TrainEventOf<'resumed'>;

/** How far a metric writer has written, so a resumed writer goes on without duplicating lines. */
export interface WriterCursorData {
  readonly writer: string;
  /** Newest iteration the writer has written. */
  readonly iter: number;
  /** Writer-specific position (e.g. samples written per metric), JSON. */
  readonly detail?: unknown;
}
export type WriterCursorEvent = TrainEventOf<'writer-cursor'>;

/** A hook threw: which one, in which phase and iteration, and its error. */
export interface HookFailedData {
  readonly hook: string;
  readonly phase: string;
  readonly iter: number;
  readonly message: string;
  readonly stack?: string | undefined;
}
export type HookFailedEvent = TrainEventOf<'hook-failed'>;

/**
 * The writers named are due (a PeriodicWriter's write point) and run on the log's writer
 * thread: that thread writes them with the state folded up to here and puts their
 * `writer-cursor` events in this event's place. It never reaches the log; it folds to nothing.
 */
export interface WritePointData {
  readonly writers: readonly string[];
}
export type WritePointEvent = TrainEventOf<'write-point'>;

/** How a run ended (a `run-completed` event carries just this): at which iteration, and when. */
export interface RunEndedData {
  readonly iter: number;
  readonly wallTime: number;
}
export type RunCompletedEvent = TrainEventOf<'run-completed'>;

/** The run failed: the error that ended it. */
export interface RunFailedData extends RunEndedData {
  readonly message: string;
  readonly stack?: string | undefined;
}
export type RunFailedEvent = TrainEventOf<'run-failed'>;

/** The run was ended early on request (`requestStop(reason)`, e.g. early stopping). */
export interface RunStoppedData extends RunEndedData {
  readonly reason: string;
}
export type RunStoppedEvent = TrainEventOf<'run-stopped'>;

/** Every event the log records: the one place each type is paired with its data. */
export type TrainEvent =
  | Ev<'run-started', RunStartedData>
  | Ev<'scalar', ScalarData>
  | Ev<'step', StepData>
  | Ev<'histogram', HistogramData>
  | Ev<'image', ImageData>
  | Ev<'media-cleared', MediaClearedData>
  | Ev<'iter-set', IterSetData>
  | Ev<'checkpoint-saved', CheckpointSavedData>
  | Ev<'resumed', ResumedData>
  | Ev<'writer-cursor', WriterCursorData>
  | Ev<'write-point', WritePointData>
  | Ev<'hook-failed', HookFailedData>
  | Ev<'run-completed', RunEndedData>
  | Ev<'run-failed', RunFailedData>
  | Ev<'run-stopped', RunStoppedData>;

export type TrainEventType = TrainEvent['type'];

/** The event of type `T`, e.g. `TrainEventOf<'step'>`. */
export type TrainEventOf<T extends TrainEventType> = Extract<TrainEvent, { readonly type: T }>;

/** The event versions this build reads and writes. */
export const EVENT_VERSIONS: Readonly<Record<TrainEventType, number>> = {
  'run-started': 1,
  scalar: 1,
  step: 1,
  histogram: 1,
  image: 1,
  'media-cleared': 1,
  'iter-set': 1,
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
export function event<T extends TrainEventType>(type: T, data: TrainEventOf<T>['data']): TrainEventOf<T> {
  return { type, v: 1, data } as TrainEventOf<T>;
}
