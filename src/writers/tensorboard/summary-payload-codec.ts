import { InvalidArgumentError } from '../../errors/trainledger-error.js';
import type { ProtoReader } from './proto-reader.js';
import { WireType } from './proto-wire-type.js';
import { ProtoWriter } from './proto-writer.js';
import type { TfHistogram, TfImage, TfPluginData, TfSummaryValue } from './tf-event.js';
import { utf8ByteLength } from './utf8.js';

// Field numbers from tensorboard/compat/proto/summary.proto and histogram.proto.
const VALUE_IMAGE = 4;
const VALUE_HISTO = 5;
const VALUE_TENSOR = 8;
const VALUE_METADATA = 9;
const IMAGE_HEIGHT = 1;
const IMAGE_WIDTH = 2;
const IMAGE_COLORSPACE = 3;
const IMAGE_ENCODED = 4;
const HISTO_MIN = 1;
const HISTO_MAX = 2;
const HISTO_NUM = 3;
const HISTO_SUM = 4;
const HISTO_SUM_SQUARES = 5;
const HISTO_BUCKET_LIMIT = 6;
const HISTO_BUCKET = 7;
const METADATA_PLUGIN_DATA = 1;
const PLUGIN_NAME = 1;
const PLUGIN_CONTENT = 2;

/**
 * The encoded fields of `value` after `tag` and `simple_value` (image, histo, tensor, metadata, in
 * field order), or null when it has none. Throws InvalidArgumentError for a value that sets two
 * members of the `value` oneof or holds unusable numbers.
 */
export function encodeValuePayload(value: TfSummaryValue): Uint8Array | null {
  const { image, histogram, tensor, metadata } = value;
  if (image === undefined && histogram === undefined && tensor === undefined && metadata === undefined) return null;
  const members = [value.simpleValue, image, histogram, tensor].filter((m) => m !== undefined).length;
  if (members > 1) {
    throw new InvalidArgumentError(`summary value ${JSON.stringify(value.tag)} sets ${members} of simpleValue, image, histogram and tensor; expected at most one (they are one oneof)`);
  }
  const w = new ProtoWriter();
  if (image !== undefined) w.key(VALUE_IMAGE, WireType.len).lengthDelimited(encodeImage(value.tag, image));
  if (histogram !== undefined) w.key(VALUE_HISTO, WireType.len).lengthDelimited(encodeHistogram(value.tag, histogram));
  if (tensor !== undefined) w.key(VALUE_TENSOR, WireType.len).lengthDelimited(tensor);
  if (metadata !== undefined) w.key(VALUE_METADATA, WireType.len).lengthDelimited(encodeMetadata(metadata));
  return w.finish().slice();
}

function int32Field(w: ProtoWriter, field: number, value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fff_ffff) throw new InvalidArgumentError(`${what} ${String(value)} is not usable; expected an integer in [0, 2^31)`);
  if (value !== 0) w.key(field, WireType.varint).uint32(value);
}

function encodeImage(tag: string, image: TfImage): Uint8Array {
  const w = new ProtoWriter();
  int32Field(w, IMAGE_HEIGHT, image.height, `image ${JSON.stringify(tag)} height`);
  int32Field(w, IMAGE_WIDTH, image.width, `image ${JSON.stringify(tag)} width`);
  int32Field(w, IMAGE_COLORSPACE, image.colorspace, `image ${JSON.stringify(tag)} colorspace`);
  if (image.encoded.length > 0) w.key(IMAGE_ENCODED, WireType.len).lengthDelimited(image.encoded);
  return w.finish().slice();
}

function doubleField(w: ProtoWriter, field: number, value: number): void {
  // Object.is keeps -0, whose bits differ from proto3's default +0.
  if (!Object.is(value, 0)) w.key(field, WireType.i64).double(value);
}

function packedDoubles(w: ProtoWriter, field: number, values: readonly number[], what: string): void {
  if (values.length === 0) return;
  w.key(field, WireType.len).uint32(values.length * 8);
  for (const v of values) {
    if (typeof v !== 'number') throw new InvalidArgumentError(`${what} holds ${String(v)}; expected numbers`);
    w.double(v);
  }
}

function encodeHistogram(tag: string, h: TfHistogram): Uint8Array {
  if (h.bucketLimits.length !== h.buckets.length) {
    throw new InvalidArgumentError(`histogram ${JSON.stringify(tag)} has ${h.bucketLimits.length} bucket limits and ${h.buckets.length} buckets; expected as many of each`);
  }
  const w = new ProtoWriter();
  doubleField(w, HISTO_MIN, h.min);
  doubleField(w, HISTO_MAX, h.max);
  doubleField(w, HISTO_NUM, h.num);
  doubleField(w, HISTO_SUM, h.sum);
  doubleField(w, HISTO_SUM_SQUARES, h.sumSquares);
  packedDoubles(w, HISTO_BUCKET_LIMIT, h.bucketLimits, `histogram ${JSON.stringify(tag)} bucketLimits`);
  packedDoubles(w, HISTO_BUCKET, h.buckets, `histogram ${JSON.stringify(tag)} buckets`);
  return w.finish().slice();
}

function encodeMetadata(m: TfPluginData): Uint8Array {
  const plugin = new ProtoWriter();
  const nameLength = utf8ByteLength(m.pluginName, 'plugin name');
  if (nameLength > 0) plugin.key(PLUGIN_NAME, WireType.len).string(m.pluginName, nameLength);
  if (m.content.length > 0) plugin.key(PLUGIN_CONTENT, WireType.len).lengthDelimited(m.content);
  return new ProtoWriter().key(METADATA_PLUGIN_DATA, WireType.len).lengthDelimited(plugin.finish()).finish().slice();
}

/** Decodes `Summary.Image`. */
export function decodeImage(r: ProtoReader): TfImage {
  let height = 0;
  let width = 0;
  let colorspace = 0;
  let encoded = new Uint8Array(0);
  while (!r.done) {
    const at = r.offset;
    const key = r.key();
    const varint = key.field === IMAGE_HEIGHT || key.field === IMAGE_WIDTH || key.field === IMAGE_COLORSPACE;
    if (varint && key.wireType !== WireType.varint) r.wrongWireType('Image field', key, WireType.varint, at);
    if (key.field === IMAGE_HEIGHT) height = r.int32();
    else if (key.field === IMAGE_WIDTH) width = r.int32();
    else if (key.field === IMAGE_COLORSPACE) colorspace = r.int32();
    else if (key.field === IMAGE_ENCODED) {
      if (key.wireType !== WireType.len) r.wrongWireType('Image.encoded_image_string', key, WireType.len, at);
      encoded = r.bytes().slice();
    } else r.skip(key.wireType);
  }
  return { height, width, colorspace, encoded };
}

/** Decodes `HistogramProto` (repeated doubles packed or not, as proto3 readers accept both). */
export function decodeHistogram(r: ProtoReader): TfHistogram {
  const scalars = [0, 0, 0, 0, 0];
  const bucketLimits: number[] = [];
  const buckets: number[] = [];
  while (!r.done) {
    const at = r.offset;
    const key = r.key();
    if (key.field >= HISTO_MIN && key.field <= HISTO_SUM_SQUARES) {
      if (key.wireType !== WireType.i64) r.wrongWireType('HistogramProto double', key, WireType.i64, at);
      scalars[key.field - 1] = r.double();
    } else if (key.field === HISTO_BUCKET_LIMIT || key.field === HISTO_BUCKET) {
      const into = key.field === HISTO_BUCKET ? buckets : bucketLimits;
      if (key.wireType === WireType.i64) into.push(r.double());
      else if (key.wireType === WireType.len) {
        const packed = r.message();
        while (!packed.done) into.push(packed.double());
      } else r.wrongWireType('HistogramProto repeated double', key, WireType.len, at);
    } else r.skip(key.wireType);
  }
  const [min, max, num, sum, sumSquares] = scalars as [number, number, number, number, number];
  return { min, max, num, sum, sumSquares, bucketLimits, buckets };
}

/** Decodes `SummaryMetadata`, keeping only its plugin data. */
export function decodeMetadata(r: ProtoReader): TfPluginData {
  let pluginName = '';
  let content = new Uint8Array(0);
  while (!r.done) {
    const at = r.offset;
    const key = r.key();
    if (key.field !== METADATA_PLUGIN_DATA) {
      r.skip(key.wireType);
      continue;
    }
    if (key.wireType !== WireType.len) r.wrongWireType('SummaryMetadata.plugin_data', key, WireType.len, at);
    const plugin = r.message();
    while (!plugin.done) {
      const pat = plugin.offset;
      const pkey = plugin.key();
      if (pkey.field === PLUGIN_NAME || pkey.field === PLUGIN_CONTENT) {
        if (pkey.wireType !== WireType.len) plugin.wrongWireType('PluginData field', pkey, WireType.len, pat);
        if (pkey.field === PLUGIN_NAME) pluginName = plugin.string();
        else content = plugin.bytes().slice();
      } else plugin.skip(pkey.wireType);
    }
  }
  return { pluginName, content };
}

export const PAYLOAD_FIELDS = { image: VALUE_IMAGE, histo: VALUE_HISTO, tensor: VALUE_TENSOR, metadata: VALUE_METADATA } as const;
