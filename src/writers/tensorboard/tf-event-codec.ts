import { InvalidArgumentError } from '../../errors/trainledger-error.js';
import { ProtoReader } from './proto-reader.js';
import { WireType } from './proto-wire-type.js';
import { ProtoWriter } from './proto-writer.js';
import type { TfEvent, TfPluginData, TfSummaryValue } from './tf-event.js';
import { decodeHistogram, decodeImage, decodeMetadata, encodeValuePayload, PAYLOAD_FIELDS } from './summary-payload-codec.js';
import { utf8ByteLength } from './utf8.js';

// Field numbers from tensorboard/compat/proto/event.proto and summary.proto.
const EVENT_WALL_TIME = 1;
const EVENT_STEP = 2;
const EVENT_FILE_VERSION = 3;
const EVENT_SUMMARY = 5;
const EVENT_SESSION_LOG = 7;
const SUMMARY_VALUE = 1;
const VALUE_TAG = 1;
const VALUE_SIMPLE_VALUE = 2;
const SESSION_LOG_STATUS = 1;

function lengthDelimitedSize(length: number): number {
  return 1 + ProtoWriter.uint32Size(length) + length;
}

/**
 * Serialises an event to `tensorflow.Event` wire format, canonically: fields in ascending number
 * order, proto3 defaults (zero wall time or step, empty tag, unspecified status) omitted, the
 * oneof member always present. Same event in, same bytes out.
 *
 * @example
 * ```ts
 * encodeTfEvent({ kind: 'other', wallTime: 0, step: 7 }); // Uint8Array [0x10, 0x07]
 * ```
 */
export function encodeTfEvent(event: TfEvent): Uint8Array {
  return writeTfEvent(new ProtoWriter(), event).finish();
}

/**
 * Appends the encoding of `event` (as {@link encodeTfEvent} produces it) to `writer` and returns
 * the writer. Lets a caller reuse one buffer for every event instead of allocating per event.
 * Nothing is appended if the event is rejected.
 *
 * @example
 * ```ts
 * const scratch = new ProtoWriter();
 * const bytes = writeTfEvent(scratch.reset(), event).finish();
 * ```
 */
export function writeTfEvent(writer: ProtoWriter, event: TfEvent): ProtoWriter {
  const { wallTime, step } = event;
  if (typeof wallTime !== 'number') {
    throw new InvalidArgumentError(`wallTime ${String(wallTime)} is not a number; expected seconds since the epoch`);
  }
  if (!Number.isSafeInteger(step)) {
    throw new InvalidArgumentError(`step ${String(step)} is not usable; expected a safe integer`);
  }
  // Validate and measure everything before the first byte is written, so a rejected event leaves
  // the writer untouched.
  switch (event.kind) {
    case 'fileVersion': {
      const versionLength = utf8ByteLength(event.fileVersion, 'fileVersion');
      writeHeader(writer, wallTime, step);
      writer.key(EVENT_FILE_VERSION, WireType.len).string(event.fileVersion, versionLength);
      return writer;
    }
    case 'summary': {
      const { values } = event;
      const tagLengths: number[] = [];
      const payloads: (Uint8Array | null)[] = [];
      let summarySize = 0;
      for (const value of values) {
        const tagLength = utf8ByteLength(value.tag, 'summary tag');
        const simple = value.simpleValue;
        if (simple !== undefined && typeof simple !== 'number') {
          throw new InvalidArgumentError(`simpleValue ${String(simple)} of tag ${JSON.stringify(value.tag)} is not a number; expected a number`);
        }
        const payload = encodeValuePayload(value);
        tagLengths.push(tagLength);
        payloads.push(payload);
        summarySize += lengthDelimitedSize(valueSize(tagLength, simple, payload));
      }
      writeHeader(writer, wallTime, step);
      writer.key(EVENT_SUMMARY, WireType.len).uint32(summarySize);
      let i = 0;
      for (const { tag, simpleValue } of values) {
        const tagLength = tagLengths[i]!; // one per value, pushed above
        const payload = payloads[i++]!;
        writer.key(SUMMARY_VALUE, WireType.len).uint32(valueSize(tagLength, simpleValue, payload));
        if (tagLength > 0) writer.key(VALUE_TAG, WireType.len).string(tag, tagLength);
        if (simpleValue !== undefined) writer.key(VALUE_SIMPLE_VALUE, WireType.i32).float(simpleValue);
        if (payload !== null) writer.raw(payload);
      }
      return writer;
    }
    case 'sessionLog': {
      const { status } = event;
      if (!Number.isInteger(status) || status < -0x8000_0000 || status > 0x7fff_ffff) {
        throw new InvalidArgumentError(`session status ${String(status)} is not an enum value; expected an int32 such as TfSessionStatus.start`);
      }
      writeHeader(writer, wallTime, step);
      writer.key(EVENT_SESSION_LOG, WireType.len).uint32(status !== 0 ? 1 + ProtoWriter.int64Size(status) : 0);
      // Enums are int32 on the wire, and negative int32s are sign-extended like int64s.
      if (status !== 0) writer.key(SESSION_LOG_STATUS, WireType.varint).int64(status);
      return writer;
    }
    case 'other':
      writeHeader(writer, wallTime, step);
      return writer;
    default:
      // A new TfEvent kind must say here how it is encoded.
      throw unknownKind(event);
  }
}

function unknownKind(event: never): InvalidArgumentError {
  const kind: unknown = (event as { readonly kind?: unknown }).kind;
  return new InvalidArgumentError(`event kind ${JSON.stringify(kind)} is not known; expected fileVersion, summary, sessionLog or other`);
}

function valueSize(tagLength: number, simpleValue: number | undefined, payload: Uint8Array | null): number {
  return (tagLength > 0 ? lengthDelimitedSize(tagLength) : 0) + (simpleValue !== undefined ? 5 : 0) + (payload?.length ?? 0);
}

function writeHeader(writer: ProtoWriter, wallTime: number, step: number): void {
  // Object.is keeps -0, whose bits differ from proto3's default +0.
  if (!Object.is(wallTime, 0)) writer.key(EVENT_WALL_TIME, WireType.i64).double(wallTime);
  if (step !== 0) writer.key(EVENT_STEP, WireType.varint).int64(step);
}

/**
 * Parses `tensorflow.Event` bytes. Fields and oneof members it does not model are skipped (so
 * files written by TensorFlow itself decode, with such events as kind `other`); malformed bytes
 * throw {@link TfEventsFormatError} with reason `invalid-event`. `baseOffset` is the position of
 * `bytes` in the enclosing file and only affects the offsets reported in errors.
 *
 * @example
 * ```ts
 * decodeTfEvent(new Uint8Array([0x10, 0x07])); // { kind: 'other', wallTime: 0, step: 7 }
 * ```
 */
export function decodeTfEvent(bytes: Uint8Array, baseOffset = 0): TfEvent {
  const reader = new ProtoReader(bytes, baseOffset);
  let wallTime = 0;
  let step = 0;
  // Proto semantics: the last oneof member seen wins; a repeated embedded Summary merges.
  let what:
    | { readonly kind: 'fileVersion'; readonly fileVersion: string }
    | { readonly kind: 'summary'; readonly values: TfSummaryValue[] }
    | { readonly kind: 'sessionLog'; readonly status: number }
    | { readonly kind: 'other' } = { kind: 'other' };
  while (!reader.done) {
    const at = reader.offset;
    const key = reader.key();
    switch (key.field) {
      case EVENT_WALL_TIME:
        if (key.wireType !== WireType.i64) reader.wrongWireType('wall_time', key, WireType.i64, at);
        wallTime = reader.double();
        break;
      case EVENT_STEP:
        if (key.wireType !== WireType.varint) reader.wrongWireType('step', key, WireType.varint, at);
        step = reader.int64();
        break;
      case EVENT_FILE_VERSION:
        if (key.wireType !== WireType.len) reader.wrongWireType('file_version', key, WireType.len, at);
        what = { kind: 'fileVersion', fileVersion: reader.string() };
        break;
      case EVENT_SUMMARY: {
        if (key.wireType !== WireType.len) reader.wrongWireType('summary', key, WireType.len, at);
        const values = decodeSummaryValues(reader.message());
        what = what.kind === 'summary' ? { kind: 'summary', values: [...what.values, ...values] } : { kind: 'summary', values };
        break;
      }
      case EVENT_SESSION_LOG: {
        if (key.wireType !== WireType.len) reader.wrongWireType('session_log', key, WireType.len, at);
        const previous: number = what.kind === 'sessionLog' ? what.status : 0;
        what = { kind: 'sessionLog', status: decodeSessionStatus(reader.message(), previous) };
        break;
      }
      default:
        // Another `what` member (graph_def, tagged_run_metadata, ...) replaces ours, per oneof rules.
        if (key.field >= 4 && key.field <= 9) what = { kind: 'other' };
        reader.skip(key.wireType);
    }
  }
  return { wallTime, step, ...what };
}

function decodeSummaryValues(summary: ProtoReader): TfSummaryValue[] {
  const values: TfSummaryValue[] = [];
  while (!summary.done) {
    const at = summary.offset;
    const key = summary.key();
    if (key.field !== SUMMARY_VALUE) {
      summary.skip(key.wireType);
      continue;
    }
    if (key.wireType !== WireType.len) summary.wrongWireType('Summary.value', key, WireType.len, at);
    const value = summary.message();
    let tag = '';
    // The `value` oneof: the last member seen wins.
    let member: Partial<Pick<TfSummaryValue, 'simpleValue' | 'image' | 'histogram' | 'tensor'>> = {};
    let metadata: TfPluginData | undefined;
    while (!value.done) {
      const fieldAt = value.offset;
      const field = value.key();
      if (field.field === VALUE_TAG) {
        if (field.wireType !== WireType.len) value.wrongWireType('Value.tag', field, WireType.len, fieldAt);
        tag = value.string();
      } else if (field.field === VALUE_SIMPLE_VALUE) {
        if (field.wireType !== WireType.i32) value.wrongWireType('Value.simple_value', field, WireType.i32, fieldAt);
        member = { simpleValue: value.float() };
      } else if (field.field === PAYLOAD_FIELDS.image || field.field === PAYLOAD_FIELDS.histo || field.field === PAYLOAD_FIELDS.tensor || field.field === PAYLOAD_FIELDS.metadata) {
        if (field.wireType !== WireType.len) value.wrongWireType('Value payload', field, WireType.len, fieldAt);
        if (field.field === PAYLOAD_FIELDS.image) member = { image: decodeImage(value.message()) };
        else if (field.field === PAYLOAD_FIELDS.histo) member = { histogram: decodeHistogram(value.message()) };
        else if (field.field === PAYLOAD_FIELDS.tensor) member = { tensor: value.bytes().slice() };
        else metadata = decodeMetadata(value.message());
      } else {
        // Another member of the `value` oneof (audio, old-style histogram) displaces ours.
        if (field.field === 3 || field.field === 6) member = {};
        value.skip(field.wireType);
      }
    }
    values.push({ tag, ...member, ...(metadata === undefined ? {} : { metadata }) });
  }
  return values;
}

function decodeSessionStatus(log: ProtoReader, previous: number): number {
  let status = previous;
  while (!log.done) {
    const at = log.offset;
    const key = log.key();
    if (key.field === SESSION_LOG_STATUS) {
      if (key.wireType !== WireType.varint) log.wrongWireType('SessionLog.status', key, WireType.varint, at);
      status = log.int32();
    } else {
      log.skip(key.wireType);
    }
  }
  return status;
}
