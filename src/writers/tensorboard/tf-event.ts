/**
 * The subset of `tensorflow.Event` (tensorboard/compat/proto/event.proto and summary.proto) that
 * trainledger writes and reads, as plain immutable data.
 *
 * Field numbers, for reference: Event.wall_time = 1 (double), step = 2 (int64), and the `what`
 * oneof: file_version = 3 (string), summary = 5 (Summary), session_log = 7 (SessionLog; 6 is the
 * deprecated log_message). Summary.value = 1 (repeated Value); Value.tag = 1 (string),
 * Value.simple_value = 2 (float); SessionLog.status = 1 (enum SessionStatus).
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

/**
 * One `Summary.Value`. `simpleValue` is the float32 scalar; it is absent when the value carries
 * another payload this package does not decode (TF2's tensor scalars, images, histograms).
 */
export interface TfSummaryValue {
  readonly tag: string;
  readonly simpleValue?: number;
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
