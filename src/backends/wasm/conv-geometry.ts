/**
 * Index arithmetic shared by the convolution-gradient kernels. Each gradient is computed as a
 * forward convolution that the wasm backend already runs fast (XNNPACK), with the roles of
 * stride and dilation exchanged; these helpers compute the paddings that make the shapes line up.
 */

/** Padding (may be negative, meaning "crop") before and after one spatial axis. */
export interface AxisPadding {
  readonly before: number;
  readonly after: number;
}

/** The spatial geometry of one axis of a forward convolution. */
export interface ConvAxis {
  /** Input length, before padding. */
  readonly inSize: number;
  /** Output length of the forward convolution. */
  readonly outSize: number;
  /** Filter length (taps, not dilated). */
  readonly filterSize: number;
  readonly stride: number;
  readonly dilation: number;
  /** Padding the forward convolution added before the input. */
  readonly padBefore: number;
}

/**
 * Padding of the input for the filter gradient seen as a convolution: input `x` is convolved with
 * `dy` used as filter, with stride = forward dilation and dilation = forward stride. The result
 * has at least `filterSize` positions; `after` is never negative because extra positions are
 * cheaper to drop from the small result than from the large input.
 *
 * @example
 * ```ts
 * const rows = filterGradPadding({ inSize: 28, outSize: 28, filterSize: 3, stride: 1, dilation: 1, padBefore: 1 });
 * // rows = { before: 1, after: 1 } — the forward 'same' padding
 * ```
 */
export function filterGradPadding(axis: ConvAxis): AxisPadding {
  const { inSize, outSize, filterSize, stride, dilation, padBefore } = axis;
  // Last input position the forward pass read, counted from the padded start, plus one.
  const needed = (filterSize - 1) * dilation + (outSize - 1) * stride + 1;
  return { before: padBefore, after: Math.max(0, needed - inSize - padBefore) };
}

/** Output length of a convolution over `paddedSize` positions with the given filter extent.  *
 * @example
 * ```ts
 * convOutSize(30, 28, 1, 1); // 3: a 28-tap filter over 30 padded positions
 * ```
 */
export function convOutSize(
  paddedSize: number,
  filterSize: number,
  stride: number,
  dilation: number,
): number {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  return Math.floor((paddedSize - effectiveFilter) / stride) + 1;
}

/**
 * Padding of the stride-dilated `dy` (each row followed by `stride - 1` zero rows, so its length
 * is `outSize * stride`) for the input gradient seen as a stride-1 convolution with the
 * spatially flipped filter. Negative values mean that many positions must be cropped instead:
 * they come from forward outputs that only saw padding, or from the trailing zero rows.
 *
 * @example
 * ```ts
 * inputGradPadding({ inSize: 28, outSize: 14, filterSize: 3, stride: 2, dilation: 1, padBefore: 0 });
 * // { before: 2, after: 0 }: 2 zero rows above the spread dy, none below
 * ```
 */
export function inputGradPadding(axis: ConvAxis): AxisPadding {
  const { inSize, outSize, filterSize, stride, dilation, padBefore } = axis;
  const before = (filterSize - 1) * dilation - padBefore;
  // The stride-1 convolution must produce exactly inSize positions.
  const after = inSize + (filterSize - 1) * dilation - before - outSize * stride;
  return { before, after };
}
