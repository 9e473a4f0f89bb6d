import { backend_util, type TensorInfo } from '@tensorflow/tfjs';

import { assertFloat32, assertShape } from './kernel-input-checks.js';

/** A rank-4 shape, as tfjs types the shapes of convolution inputs and filters. */
export type Shape4 = [number, number, number, number];

/** The attributes every convolution gradient has, which fix its forward convolution. */
interface ForwardAttrs {
  readonly strides: number | [number, number];
  readonly pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** A conv2d gradient's forward convolution: either data format, never dilated. */
export interface Conv2DForwardAttrs extends ForwardAttrs {
  readonly depthwise: false;
  readonly dataFormat: 'NHWC' | 'NCHW';
}

/** A depthwise gradient's forward convolution: NHWC, possibly dilated. */
export interface DepthwiseForwardAttrs extends ForwardAttrs {
  readonly depthwise: true;
  readonly dilations: number | [number, number];
}

/** The forward convolution a gradient kernel differentiates. */
export interface ForwardConv {
  readonly info: backend_util.Conv2DInfo;
  readonly channelsLast: boolean;
}

/**
 * Checks a convolution gradient's inputs (each float32, in the order given; `dy` of the forward
 * output's shape) and computes the geometry of the forward convolution from its input and
 * filter shapes.
 *
 * @example
 * ```ts
 * const { info, channelsLast } = forwardConv(Conv2DBackpropInput, { dy, filter }, inputShape, filter.shape as Shape4, {
 *   depthwise: false, strides, pad, dataFormat, dimRoundingMode,
 * });
 * ```
 */
export function forwardConv(
  kernelName: string,
  inputs: Readonly<Record<string, TensorInfo>> & { readonly dy: TensorInfo },
  inShape: Shape4,
  filterShape: Shape4,
  attrs: Conv2DForwardAttrs | DepthwiseForwardAttrs,
): ForwardConv {
  for (const [name, tensor] of Object.entries(inputs)) assertFloat32(kernelName, tensor, name);
  const { strides, pad, dimRoundingMode } = attrs;
  let info: backend_util.Conv2DInfo;
  if (attrs.depthwise) {
    info = backend_util.computeConv2DInfo(inShape, filterShape, strides, attrs.dilations, pad, dimRoundingMode, true);
  } else {
    const format = backend_util.convertConv2DDataFormat(attrs.dataFormat);
    info = backend_util.computeConv2DInfo(inShape, filterShape, strides, 1, pad, dimRoundingMode, false, format);
  }
  assertShape(kernelName, inputs.dy, 'dy', info.outShape);
  return { info, channelsLast: info.dataFormat === 'channelsLast' };
}
