import { HookBase } from '../engine/hook-base.js';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { saveCheckpoint, type CheckpointSource } from './checkpoint-target.js';
import { evalDue } from './eval-hook.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { consoleLogger, type Logger } from '../util/logger.js';

export interface BestCheckpointerOptions extends CheckpointSource {
  readonly name?: string;
  readonly logger?: Logger;
}

/**
 * Saves `model_best` when `metric` improves (detectron2's BestCheckpointer), checked at the
 * same iterations as an EvalHook of the same period and after training. NaN and ±Inf are never a
 * best. The best value and its iteration are hook state: checkpointed, so they survive a resume.
 *
 * @example
 * ```ts
 * trainer.register(new EvalHook(500, evaluate), new BestCheckpointer('runs/ckpt', 500, 'accuracy', 'max'));
 * ```
 */
export class BestCheckpointer extends HookBase {
  readonly store: CheckpointStore;
  readonly evalPeriod: number;
  readonly metric: string;
  readonly mode: 'max' | 'min';
  readonly options: BestCheckpointerOptions;
  best: { value: number; iter: number } | null = null;
  saves = 0;

  constructor(dir: string | CheckpointStore, evalPeriod: number, metric: string, mode: 'max' | 'min' = 'max', options: BestCheckpointerOptions = {}) {
    super();
    if (mode !== 'max' && mode !== 'min') throw new InvalidArgumentError(`BestCheckpointer mode must be 'max' or 'min', got ${JSON.stringify(mode)}`);
    this.store = typeof dir === 'string' ? new CheckpointStore(dir) : dir;
    this.evalPeriod = evalPeriod;
    this.metric = metric;
    this.mode = mode;
    this.options = options;
  }

  #better(a: number, b: number): boolean {
    return this.mode === 'max' ? a > b : a < b;
  }

  async #check(): Promise<void> {
    const logger = this.options.logger ?? consoleLogger;
    const latest = this.trainer.state.storage.latest()[this.metric];
    if (latest === undefined) {
      logger.warn(`BestCheckpointer: metric ${JSON.stringify(this.metric)} has not been put; is the eval hook registered before this one with the same period?`);
      return;
    }
    const [value, iter] = latest;
    if (!Number.isFinite(value)) return; // a NaN or infinite metric is never a best
    if (this.best === null || this.#better(value, this.best.value)) {
      const previous = this.best;
      this.best = { value, iter };
      await saveCheckpoint(this.trainer, this.store, this.options.name ?? 'model_best', this.options);
      this.saves++;
      logger.info(
        previous === null
          ? `Saved first model at ${value.toPrecision(5)} @ ${iter} steps`
          : `Saved best model as latest eval score for ${this.metric} is ${value.toPrecision(5)}, better than last best score ${previous.value.toPrecision(5)} @ iteration ${previous.iter}.`,
      );
    }
  }

  override afterStep(): Promise<void> | void {
    if (evalDue(this.trainer.state, this.evalPeriod, 'step')) return this.#check();
  }

  override afterTrain(): Promise<void> | void {
    if (evalDue(this.trainer.state, this.evalPeriod, 'final')) return this.#check();
  }

  override stateDict(): unknown {
    return { best: this.best };
  }

  override loadStateDict(state: unknown): void {
    this.best = (state as { best: { value: number; iter: number } | null }).best ?? null;
  }
}
