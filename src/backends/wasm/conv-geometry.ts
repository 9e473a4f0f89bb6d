import type { backend_util } from '@tensorflow/tfjs';

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

/** The paddings of both spatial axes of a gradient convolution. */
export interface GradPaddings {
  readonly rows: AxisPadding;
  readonly cols: AxisPadding;
}

/** The attributes of a gradient convolution (NHWC) that its geometry fixes. */
export type GradConvAttrs = {
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pad: [[number, number], [number, number], [number, number], [number, number]];
};

/**
 * {@link filterGradPadding} of both axes of the forward convolution `info`.
 *
 * @example
 * ```ts
 * const padding = filterGradPaddings(info); // { rows: { before: 1, after: 1 }, cols: … }
 * ```
 */
export function filterGradPaddings(info: backend_util.Conv2DInfo): GradPaddings {
  const { rows, cols } = axes(info);
  return { rows: filterGradPadding(rows), cols: filterGradPadding(cols) };
}

/**
 * {@link inputGradPadding} of both axes of the forward convolution `info`.
 *
 * @example
 * ```ts
 * const padding = inputGradPaddings(info); // negative parts are cropped from the spread dy
 * ```
 */
export function inputGradPaddings(info: backend_util.Conv2DInfo): GradPaddings {
  const { rows, cols } = axes(info);
  return { rows: inputGradPadding(rows), cols: inputGradPadding(cols) };
}

/**
 * The filter gradient as a convolution of `x` with `dy`: forward stride and dilation exchanged,
 * the input padded by `padding` ({@link filterGradPaddings}).
 *
 * @example
 * ```ts
 * scope.run('Conv2D', { x: xT, filter: dyT }, { ...filterGradConvAttrs(info, padding), dataFormat: 'NHWC' });
 * ```
 */
export function filterGradConvAttrs(info: backend_util.Conv2DInfo, padding: GradPaddings): GradConvAttrs {
  return {
    strides: [info.dilationHeight, info.dilationWidth],
    dilations: [info.strideHeight, info.strideWidth],
    pad: explicitPad(padding.rows, padding.cols),
  };
}

/**
 * The input gradient as a stride-1 convolution of the spread `dy` with the flipped filter at the
 * forward dilation, padded by the non-negative parts of `padding` ({@link inputGradPaddings}):
 * the spread has already cropped the negative ones.
 *
 * @example
 * ```ts
 * scope.run('DepthwiseConv2dNative', { x: spread, filter }, { ...inputGradConvAttrs(info, padding) });
 * ```
 */
export function inputGradConvAttrs(info: backend_util.Conv2DInfo, padding: GradPaddings): GradConvAttrs {
  const { rows, cols } = padding;
  return {
    strides: [1, 1],
    dilations: [info.dilationHeight, info.dilationWidth],
    pad: explicitPad(
      { before: Math.max(0, rows.before), after: Math.max(0, rows.after) },
      { before: Math.max(0, cols.before), after: Math.max(0, cols.after) },
    ),
  };
}

function explicitPad(rows: AxisPadding, cols: AxisPadding): GradConvAttrs['pad'] {
  return [
    [0, 0],
    [rows.before, rows.after],
    [cols.before, cols.after],
    [0, 0],
  ];
}

// The forward convolution's geometry along its rows and along its columns.
function axes(info: backend_util.Conv2DInfo): { rows: ConvAxis; cols: ConvAxis } {
  const { top, left } = info.padInfo;
  return {
    rows: { inSize: info.inHeight, outSize: info.outHeight, filterSize: info.filterHeight, stride: info.strideHeight, dilation: info.dilationHeight, padBefore: top },
    cols: { inSize: info.inWidth, outSize: info.outWidth, filterSize: info.filterWidth, stride: info.strideWidth, dilation: info.dilationWidth, padBefore: left },
  };
}
