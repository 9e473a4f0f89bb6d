/**
 * The smoothed curve by its definition, literally: for each point, scan back while the iteration
 * is inside the window, sort, take the middle (NaN when a NaN is inside, as HistoryBuffer.median).
 */
export function medianOracle(iters: readonly number[], values: readonly number[], window: number): number[] {
  return iters.map((it, i) => {
    const w: number[] = [];
    for (let j = i; j >= 0 && iters[j]! > it - window; j--) w.push(values[j]!);
    if (w.some((v) => Number.isNaN(v))) return NaN;
    w.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const mid = w.length >> 1;
    return w.length % 2 === 1 ? w[mid]! : (w[mid - 1]! + w[mid]!) / 2;
  });
}
