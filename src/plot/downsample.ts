import { InvalidArgumentError } from '../errors/trainledger-error.js';
import type { MetricPoint, NonFiniteCounts } from './metric-chart-spec.js';

/**
 * Reduces a series to at most about `maxPoints` points for drawing, M4-style: the iteration
 * range is cut into `floor(maxPoints / 4)` columns of equal width, and of each column only the
 * first, last, lowest and highest sample are kept (in their original order, at their own
 * iterations). A line through them covers the same vertical extent in every column as the line
 * through all samples, so a single-sample spike survives however long the series.
 *
 * Non-finite values are not lost either: of each column the first NaN, first +Infinity and first
 * -Infinity are kept too (so at most `7 · floor(maxPoints / 4)` points in all); samples whose
 * iteration is not finite have no column and are left out. A series of at most `maxPoints`
 * samples comes back whole, unchanged.
 *
 * @throws InvalidArgumentError when `maxPoints` is not an integer of at least 4, or the arrays differ in length.
 * @example
 * ```ts
 * const points = downsampleM4(history.iters, history.values, 2 * 640); // ≤ 1280 finite points
 * ```
 */
export function downsampleM4(iters: ArrayLike<number>, values: ArrayLike<number>, maxPoints: number): MetricPoint[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 4) throw new InvalidArgumentError(`maxPoints is ${maxPoints}; expected an integer of at least 4`);
  if (iters.length !== values.length) throw new InvalidArgumentError(`${iters.length} iterations for ${values.length} values; expected one per value`);
  const n = values.length;
  if (n <= maxPoints) {
    const all: MetricPoint[] = new Array(n);
    for (let i = 0; i < n; i++) all[i] = [iters[i]!, values[i]!];
    return all;
  }
  const columns = Math.floor(maxPoints / 4);
  let x0 = Infinity;
  let x1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = iters[i]!;
    if (!Number.isFinite(x)) continue;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
  }
  // Per column, the index of each kept sample (-1: none yet): first, last, min, max, NaN, +Inf, -Inf.
  const keep = new Int32Array(columns * KEPT).fill(-1);
  for (let i = 0; i < n; i++) {
    const x = iters[i]!;
    if (!Number.isFinite(x)) continue;
    const at = m4Column(x, x0, x1, columns) * KEPT;
    const v = values[i]!;
    if (Number.isFinite(v)) {
      if (keep[at]! < 0) keep[at] = i;
      keep[at + 1] = i;
      if (keep[at + 2]! < 0 || v < values[keep[at + 2]!]!) keep[at + 2] = i;
      if (keep[at + 3]! < 0 || v > values[keep[at + 3]!]!) keep[at + 3] = i;
    } else {
      const slot = at + (Number.isNaN(v) ? 4 : v > 0 ? 5 : 6);
      if (keep[slot]! < 0) keep[slot] = i;
    }
  }
  const picked = keep.filter((i) => i >= 0).sort();
  const out: MetricPoint[] = [];
  for (let k = 0; k < picked.length; k++) {
    if (k > 0 && picked[k] === picked[k - 1]) continue;
    out.push([iters[picked[k]!]!, values[picked[k]!]!]);
  }
  return out;
}

const KEPT = 7;

/**
 * The column (0 … columns-1) of iteration `x` when [x0, x1] is cut into `columns` equal parts;
 * `x1` itself belongs to the last one.
 *
 * @example
 * ```ts
 * m4Column(50, 0, 100, 4); // 2
 * ```
 */
export function m4Column(x: number, x0: number, x1: number, columns: number): number {
  if (!(x1 > x0)) return 0;
  return Math.min(columns - 1, Math.floor(((x - x0) / (x1 - x0)) * columns));
}

/**
 * How many values are NaN, +Infinity and -Infinity.
 *
 * @example
 * ```ts
 * countNonFinite([1, NaN, Infinity]); // { nan: 1, posInf: 1, negInf: 0 }
 * ```
 */
export function countNonFinite(values: ArrayLike<number>): NonFiniteCounts {
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nan++;
    else if (v === Infinity) posInf++;
    else if (v === -Infinity) negInf++;
  }
  return { nan, posInf, negInf };
}
