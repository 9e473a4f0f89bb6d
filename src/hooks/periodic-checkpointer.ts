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
    const iter = t.iter;
    if ((iter + 1) % this.period === 0) {
      const name = `${this.prefix}_${String(iter).padStart(7, '0')}`;
      await saveCheckpoint(t, this.store, name, this.options);
      this.saved.push(name);
      await this.#prune();
    }
    if (iter >= t.maxIter - 1) {
      await saveCheckpoint(t, this.store, `${this.prefix}_final`, this.options);
      this.saved.push(`${this.prefix}_final`);
    }
  }

  async #prune(): Promise<void> {
    const keep = this.options.maxToKeep;
    if (keep === undefined) return;
    const pattern = new RegExp(`^${this.prefix}_\\d{7}$`);
    const periodic = this.store
      .list()
      .filter((c) => pattern.test(c.name))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const c of periodic.slice(0, Math.max(0, periodic.length - keep))) await this.store.remove(c.name);
  }
}
