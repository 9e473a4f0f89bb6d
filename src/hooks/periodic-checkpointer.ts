import { HookBase } from '../engine/hook-base.js';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { saveCheckpoint, type CheckpointSource } from './checkpoint-target.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

export interface PeriodicCheckpointerOptions extends CheckpointSource {
  /** Keep at most this many periodic checkpoints (model_final is not counted). */
  readonly maxToKeep?: number;
  readonly prefix?: string;
}

/**
 * Saves `model_0000019`, `model_0000039`, … every `period` iterations and `model_final` at the
 * last one (detectron2's PeriodicCheckpointer). Each save is atomic (see CheckpointStore) and is
 * recorded in the log; the trainer state it holds (iteration, hook states) and the optimizer
 * weights make it a resume point.
 *
 * @example
 * ```ts
 * trainer.register(new PeriodicCheckpointer('runs/ckpt', 1000, { maxToKeep: 3 }));
 * ```
 */
export class PeriodicCheckpointer extends HookBase {
  readonly store: CheckpointStore;
  readonly period: number;
  readonly options: PeriodicCheckpointerOptions;
  readonly saved: string[] = [];

  constructor(dir: string | CheckpointStore, period: number, options: PeriodicCheckpointerOptions = {}) {
    super();
    if (!Number.isInteger(period) || period < 1) throw new InvalidArgumentError(`checkpoint period must be a positive integer, got ${String(period)}`);
    this.store = typeof dir === 'string' ? new CheckpointStore(dir) : dir;
    this.period = period;
    this.options = options;
  }

  get prefix(): string {
    return this.options.prefix ?? 'model';
  }

  override async afterStep(): Promise<void> {
    const t = this.trainer;
    const { iter, maxIter } = t.state;
    if ((iter + 1) % this.period === 0) {
      const name = `${this.prefix}_${String(iter).padStart(7, '0')}`;
      await saveCheckpoint(t, this.store, name, this.options);
      this.saved.push(name);
      await this.#prune();
    }
    if (iter >= maxIter - 1) {
      await saveCheckpoint(t, this.store, `${this.prefix}_final`, this.options);
      this.saved.push(`${this.prefix}_final`);
    }
  }

  async #prune(): Promise<void> {
    const keep = this.options.maxToKeep;
    if (keep === undefined) return;
    const periodic: { readonly name: string; readonly iter: number }[] = [];
    for (const c of this.store.list()) {
      const iter = periodicIteration(c.name, this.prefix);
      if (iter !== null) periodic.push({ name: c.name, iter });
    }
    periodic.sort((a, b) => a.iter - b.iter);
    for (const c of periodic.slice(0, Math.max(0, periodic.length - keep))) await this.store.remove(c.name);
  }
}

/**
 * The iteration of a periodic checkpoint named exactly `<prefix>_<7 or more digits>`, else null.
 * The prefix is compared as a string: as a regular expression, `m+` would match `mm_…` and
 * prune another checkpointer's files.
 */
function periodicIteration(name: string, prefix: string): number | null {
  if (!name.startsWith(prefix) || name.charCodeAt(prefix.length) !== 0x5f /* _ */) return null;
  const digits = name.slice(prefix.length + 1);
  return /^[0-9]{7,}$/.test(digits) ? Number(digits) : null;
}
