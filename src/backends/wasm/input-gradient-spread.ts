import type { TensorInfo } from '@tensorflow/tfjs';

import type { GradPaddings } from './conv-geometry.js';
import type { KernelScope } from './kernel-scope.js';

type Shape4 = [number, number, number, number];

/**
 * Prepares NHWC `dy` for an input gradient computed as a stride-1 convolution: follows every
 * row and column with `stride - 1` zeros (so each dy value sits where its forward output window
 * started), then crops what a negative padding asks to remove. The caller pads with the
 * non-negative parts of `padding` (`inputGradConvAttrs`).
 *
 * @example
 * ```ts
 * // dy [N, 14, 14, K] of a stride-2 conv → [N, 28, 28, K] with every other row/column zero
 * const spread = spreadForInputGradient(scope, dy, 2, 2, inputGradPaddings(info));
 * ```
 */
export function spreadForInputGradient(
  scope: KernelScope,
  dy: TensorInfo,
  strideHeight: number,
  strideWidth: number,
  padding: GradPaddings,
): TensorInfo {
  const { rows, cols } = padding;
  const [batch, outHeight, outWidth, channels] = dy.shape as Shape4;
  let spread = dy;
  if (strideHeight > 1 || strideWidth > 1) {
    // [N, OH, 1, OW, 1, K] padded to [N, OH, sh, OW, sw, K] is dy with the zeros interleaved,
    // done by wasm's C++ pad instead of a scatter.
    const expanded = scope.reshape(dy, [batch, outHeight, 1, outWidth, 1, channels]);
    const padded = scope.run(
      'PadV2',
      { x: expanded },
      {
        paddings: [[0, 0], [0, 0], [0, strideHeight - 1], [0, 0], [0, strideWidth - 1], [0, 0]],
        constantValue: 0,
      },
    );
    spread = scope.reshape(padded, [batch, outHeight * strideHeight, outWidth * strideWidth, channels]);
  }
  const top = Math.max(0, -rows.before);
  const left = Math.max(0, -cols.before);
  const bottom = Math.max(0, -rows.after);
  const right = Math.max(0, -cols.after);
  if (top + left + bottom + right === 0) return spread;
  // Only explicit paddings wider than the filter (or trailing spread zeros) get here, so wasm's
  // generic JS `Slice` is acceptable.
  const [n, h, w, c] = spread.shape as Shape4;
  return scope.run('Slice', { x: spread }, { begin: [0, top, left, 0], size: [n, h - top - bottom, w - left - right, c] });
}
