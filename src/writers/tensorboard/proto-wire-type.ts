/**
 * The protobuf wire types this package reads or writes (https://protobuf.dev/programming-guides/encoding/).
 * The deprecated group types 3 and 4 are deliberately absent: no TensorBoard message uses them.
 *
 * @example
 * ```ts
 * const key = (5 << 3) | WireType.len; // Event.summary
 * ```
 */
export const WireType = {
  /** int32, int64, uint32, bool, enum: a base-128 varint. */
  varint: 0,
  /** double, fixed64: eight little-endian bytes. */
  i64: 1,
  /** string, bytes, embedded messages: a varint length, then that many bytes. */
  len: 2,
  /** float, fixed32: four little-endian bytes. */
  i32: 5,
} as const;

/** One of the {@link WireType} values. */
export type WireType = (typeof WireType)[keyof typeof WireType];
