import type { Comm } from './comm.js';
import { NonFiniteLossError } from './errors.js';
import type { EventStorage } from '../storage/event-storage.js';

function lossRecord(names: readonly string[], values: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = values[i]!;
  return out;
}

/** How SimpleTrainer puts a step's losses: checked, gathered over the workers, then reduced. */
export class LossMetrics {
  constructor(
    readonly comm: Comm,
    /** gatherMetricPeriod: with more than 1, `values` ends with the first unread non-finite step. */
    readonly period: number,
  ) {}

  /**
   * Checks the losses read for step `iter` and puts them with `rank_data_time` (this worker's)
   * and `data_time` (the slowest worker's): the total (and each loss when there are several),
   * gathered over the workers. Throws NonFiniteLossError for a
   * non-finite total, of this step or (period > 1) of an unread one.
   */
  put(storage: EventStorage, iter: number, names: readonly string[], values: ArrayLike<number>, dataTime: number): void {
    const single = names.length === 1;
    const total = values[single ? 0 : names.length]!;
    if (this.period > 1) {
      const firstBad = values[values.length - 1]!;
      if (firstBad >= 0 && firstBad !== iter) throw new NonFiniteLossError(firstBad, { total_loss: NaN });
    }
    // Checked before the optimizer step: a NaN never reaches the weights from this step.
    if (!Number.isFinite(total)) throw new NonFiniteLossError(iter, single ? { total_loss: total } : lossRecord(names, values));
    // Every worker's own data time, before the gather (detectron2's SimpleTrainer.write_metrics).
    storage.putScalar('rank_data_time', dataTime);
    if (this.comm.worldSize === 1) {
      // One process: nothing to gather, and no object per step (this runs every step).
      storage.putScalar('data_time', dataTime);
      if (single) {
        storage.putScalar('total_loss', total);
      } else {
        // The host's float64 sum of the losses, as in the gathered case below.
        let sum = 0;
        for (let i = 0; i < names.length; i++) sum += values[i]!;
        storage.putScalar('total_loss', sum);
        for (let i = 0; i < names.length; i++) storage.putScalar(names[i]!, values[i]!);
      }
      return;
    }
    const all = this.comm.gather<Record<string, number>>({ ...lossRecord(names, values), data_time: dataTime });
    if (!this.comm.isMainProcess()) return;
    // data_time: the slowest worker is the real latency; losses: mean over workers.
    let maxData = 0;
    for (const m of all) maxData = Math.max(maxData, m.data_time!);
    storage.putScalar('data_time', maxData);
    let sum = 0;
    const means: Record<string, number> = {};
    for (const n of names) {
      let s = 0;
      for (const m of all) s += m[n]!;
      means[n] = s / all.length;
      sum += means[n]!;
    }
    storage.putScalar('total_loss', sum);
    if (!single) storage.putScalars(means);
  }
}
