import { LogCorruptError } from './errors.js';

/** A resume point: at batch `seq` the run continued from the state after step `toIter`, batch `toSeq`. */
export interface Rewind {
  readonly seq: number;
  readonly toIter: number;
  /** Seq of the batch holding step `toIter`, or -1 to restart from nothing. */
  readonly toSeq: number;
}

/** Batches `from..to` (inclusive) are on the live timeline. */
export interface SeqRange {
  readonly from: number;
  readonly to: number;
}

/**
 * The live timeline of a run: which batches count, given its resume points. A resume to step k
 * keeps the timeline up to the batch of step k and drops what followed it (the abandoned
 * iterations stay in the log, off the timeline); the timeline then continues at the resume.
 * Every prefix of the result is the timeline as it was when its last batch was written, which
 * is what makes cached states keyed by seq valid forever.
 *
 * @example
 * ```ts
 * computeTimeline([{ seq: 30, toIter: 19, toSeq: 20 }]);
 * // [{ from: 0, to: 20 }, { from: 30, to: Number.MAX_SAFE_INTEGER }]
 * ```
 */
export function computeTimeline(rewinds: readonly Rewind[]): SeqRange[] {
  let ranges: SeqRange[] = [{ from: 0, to: Number.MAX_SAFE_INTEGER }];
  for (const r of rewinds) {
    if (r.toSeq >= r.seq) {
      throw new LogCorruptError(`resume at seq ${r.seq} points forward to seq ${r.toSeq}; a resume can only go back`);
    }
    const kept: SeqRange[] = [];
    if (r.toSeq >= 0) {
      let found = false;
      for (const range of ranges) {
        if (range.from > r.toSeq) break;
        if (range.to >= r.toSeq) {
          kept.push({ from: range.from, to: r.toSeq });
          found = true;
          break;
        }
        kept.push(range);
      }
      if (!found) {
        throw new LogCorruptError(`resume at seq ${r.seq} goes back to seq ${r.toSeq}, which is not on the run's timeline`);
      }
    }
    kept.push({ from: r.seq, to: Number.MAX_SAFE_INTEGER });
    ranges = kept;
  }
  return ranges;
}

/** Whether `seq` is on the timeline. */
export function onTimeline(ranges: readonly SeqRange[], seq: number): boolean {
  for (const r of ranges) if (seq >= r.from && seq <= r.to) return true;
  return false;
}
