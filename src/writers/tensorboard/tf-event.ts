/**
 * The subset of `tensorflow.Event` (tensorboard/compat/proto/event.proto and summary.proto) that
 * trainledger writes and reads, as plain immutable data.
 *
 * Field numbers, for reference: Event.wall_time = 1 (double), step = 2 (int64), and the `what`
 * oneof: file_version = 3 (string), summary = 5 (Summary), session_log = 7 (SessionLog; 6 is the
 * deprecated log_message). Summary.value = 1 (repeated Value); Value.tag = 1 (string),
 * Value.simple_value = 2 (float), image = 4, histo = 5, tensor = 8, metadata = 9;
 * SessionLog.status = 1 (enum SessionStatus).
 */

/**
 * The `file_version` TensorBoard expects in the first record of an event file; readers use the
 * `brain.Event:` prefix to recognise the format.
 */
export const TF_EVENT_FILE_VERSION = 'brain.Event:2';

/**
 * Values of `SessionLog.SessionStatus`. TensorBoard reacts to `start`: points of the same run at
 * or after that step which were written earlier are discarded as orphans of a crashed attempt.
 *
 * @example
 * ```ts
 * const event: TfSessionLogEvent = { kind: 'sessionLog', wallTime: 0, step: 0, status: TfSessionStatus.start };
 * ```
 */
export const TfSessionStatus = {
  unspecified: 0,
  start: 1,
  stop: 2,
  checkpoint: 3,
} as const;

/** Fields every event has. `wallTime` is seconds since the Unix epoch; `step` is a safe integer. */
export interface TfEventBase {
  readonly wallTime: number;
  readonly step: number;
}

/** The header event that opens every event file. */
export interface TfFileVersionEvent extends TfEventBase {
  readonly kind: 'fileVersion';
  readonly fileVersion: string;
}

/** `Summary.Image`: an encoded (PNG) image; `colorspace` 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
export interface TfImage {
  readonly height: number;
  readonly width: number;
  readonly colorspace: number;
  readonly encoded: Uint8Array;
}

/** `HistogramProto`: `bucketLimits[i]` is the right edge of `buckets[i]` (counts). */
export interface TfHistogram {
  readonly min: number;
  readonly max: number;
  readonly num: number;
  readonly sum: number;
  readonly sumSquares: number;
  readonly bucketLimits: readonly number[];
  readonly buckets: readonly number[];
}

/** `SummaryMetadata.plugin_data`: which plugin reads the value, and its own encoded data. */
export interface TfPluginData {
  readonly pluginName: string;
  readonly content: Uint8Array;
}

/**
 * One `Summary.Value`. At most one of `simpleValue` (a float32 scalar), `image`, `histogram` and
 * `tensor` (an encoded TensorProto, kept as bytes) is set: they are the proto's `value` oneof.
 * TF2's other payloads (audio, old-style histograms) decode as a value with none of them.
 */
export interface TfSummaryValue {
  readonly tag: string;
  readonly simpleValue?: number;
  readonly image?: TfImage;
  readonly histogram?: TfHistogram;
  readonly tensor?: Uint8Array;
  readonly metadata?: TfPluginData;
}

/** A `Summary` event: several tagged values recorded at one step. */
export interface TfSummaryEvent extends TfEventBase {
  readonly kind: 'summary';
  readonly values: readonly TfSummaryValue[];
}

/** A `SessionLog` event; `status` is a {@link TfSessionStatus} value (or an unknown enum number). */
export interface TfSessionLogEvent extends TfEventBase {
  readonly kind: 'sessionLog';
  readonly status: number;
}

/** An event whose `what` is absent or is a kind this package does not decode (graphs, run metadata). */
export interface TfOtherEvent extends TfEventBase {
  readonly kind: 'other';
}

/**
 * A decoded or to-be-encoded `tensorflow.Event`, discriminated by `kind` (the proto's `what` oneof).
 *
 * @example
 * ```ts
 * const event: TfEvent = { kind: 'summary', wallTime: 1.5, step: 7, values: [{ tag: 'loss', simpleValue: 0.25 }] };
 * ```
 */
export type TfEvent = TfFileVersionEvent | TfSummaryEvent | TfSessionLogEvent | TfOtherEvent;
