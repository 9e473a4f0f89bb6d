/** Random convolution geometries for the conv-gradient kernel tests. */
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';

import { RUNS } from './kernel-harness.js';

export type Padding = 'same' | 'valid' | number | number[][];
export type Rounding = 'floor' | 'round' | 'ceil' | undefined;

export interface ConvCase {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly inChannels: number;
  /** Output channels (conv2d) or channel multiplier (depthwise). */
  readonly outChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pad: Padding;
  readonly dimRoundingMode: Rounding;
  readonly dataFormat: 'NHWC' | 'NCHW';
  readonly seed: number;
}

const size = (max: number) => fc.integer({ min: 1, max });

/** Explicit paddings are given in the layout of the data format, as tf.conv2d takes them. */
function explicitPadding(format: 'NHWC' | 'NCHW', t: number, b: number, l: number, r: number): number[][] {
  return format === 'NHWC'
    ? [[0, 0], [t, b], [l, r], [0, 0]]
    : [[0, 0], [0, 0], [t, b], [l, r]];
}

/**
 * Geometries with strides 1–3, paddings 'same' / 'valid' / numeric (with every rounding mode) /
 * explicit, and (when `withDilations`) dilations 1–3 — never strides and dilations both above 1,
 * which tfjs ops reject.
 */
export function convCases(options: { readonly formats: ReadonlyArray<'NHWC' | 'NCHW'>; readonly withDilations: boolean }) {
  return fc
    .record({
      batch: size(3),
      height: size(9),
      width: size(9),
      inChannels: size(4),
      outChannels: size(3),
      filterHeight: size(4),
      filterWidth: size(4),
      stride: fc.tuple(size(3), size(3)),
      dilation: options.withDilations ? fc.tuple(size(3), size(3)) : fc.constant<[number, number]>([1, 1]),
      dilateInstead: fc.boolean(),
      padKind: fc.constantFrom('same', 'valid', 'number', 'explicit'),
      padValue: fc.integer({ min: 0, max: 2 }),
      explicit: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
      rounding: fc.constantFrom<Rounding>(undefined, 'floor', 'round', 'ceil'),
      dataFormat: fc.constantFrom(...options.formats),
      seed: fc.nat(),
    })
    .map((r): ConvCase => {
      const useDilation = options.withDilations && r.dilateInstead;
      const pad: Padding =
        r.padKind === 'same' || r.padKind === 'valid'
          ? r.padKind
          : r.padKind === 'number'
            ? r.padValue
            : explicitPadding(r.dataFormat, ...r.explicit);
      return {
        batch: r.batch,
        height: r.height,
        width: r.width,
        inChannels: r.inChannels,
        outChannels: r.outChannels,
        filterHeight: r.filterHeight,
        filterWidth: r.filterWidth,
        strides: useDilation ? [1, 1] : r.stride,
        dilations: useDilation ? r.dilation : [1, 1],
        pad,
        dimRoundingMode: r.padKind === 'number' ? r.rounding : undefined,
        dataFormat: r.dataFormat,
        seed: r.seed,
      };
    });
}

/** Input shape of the case in its data format. */
export function inputShape(c: ConvCase): [number, number, number, number] {
  return c.dataFormat === 'NHWC'
    ? [c.batch, c.height, c.width, c.inChannels]
    : [c.batch, c.inChannels, c.height, c.width];
}

/** Forward geometry, or undefined when the case has no output position (then it is skipped). */
export function convInfo(c: ConvCase, filterShape: [number, number, number, number], depthwise: boolean) {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape(c),
    filterShape,
    c.strides,
    c.dilations,
    c.pad as 'same',
    c.dimRoundingMode,
    depthwise,
    c.dataFormat === 'NHWC' ? 'channelsLast' : 'channelsFirst',
  );
  return info.outHeight > 0 && info.outWidth > 0 ? info : undefined;
}

/** Printable summary for assertion messages. */
export function describeCase(c: ConvCase): string {
  return JSON.stringify({ ...c, seed: undefined });
}

type Shape4 = [number, number, number, number];

/**
 * Runs `check` on RUNS random cases (reproducible from `seed`), each with its filter shape and
 * forward geometry; cases without an output position are skipped.
 */
export function forEachConvCase(
  options: { readonly formats: ReadonlyArray<'NHWC' | 'NCHW'>; readonly withDilations: boolean; readonly depthwise: boolean },
  seed: number,
  check: (c: ConvCase, filterShape: Shape4, info: tf.backend_util.Conv2DInfo) => void,
): void {
  fc.assert(
    fc.property(convCases(options), (c) => {
      const filterShape: Shape4 = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const info = convInfo(c, filterShape, options.depthwise);
      fc.pre(info !== undefined);
      check(c, filterShape, info);
    }),
    { seed, numRuns: RUNS },
  );
}

/** The attributes of a conv2d gradient kernel for the case, but for its input or filter shape. */
export function conv2dAttrs(c: ConvCase) {
  return { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat, dimRoundingMode: c.dimRoundingMode };
}

/** The attributes of a depthwise gradient kernel for the case, but for its input or filter shape. */
export function depthwiseAttrs(c: ConvCase) {
  return { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode };
}
