import { HookBase } from '../engine/hook-base.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

export interface EarlyStoppingOptions {
  readonly mode?: 'max' | 'min';
  /** How many evaluations without improvement are tolerated. Default 5. */
  readonly patience?: number;
  /** An improvement must exceed this. Default 0. */
  readonly minDelta?: number;
}

/**
 * Stops training when `metric` has not improved for `patience` consecutive evaluations (each new
 * value of the metric counts as one). The stop is clean: afterTrain runs and the run is logged
 * as stopped, with the reason. The best value and the patience counter are hook state, so they
 * survive a resume.
 *
 * @example
 * ```ts
 * trainer.register(new EvalHook(200, evaluate), new EarlyStopping('accuracy', { mode: 'max', patience: 3 }));
 * ```
 */
export class EarlyStopping extends HookBase {
  readonly metric: string;
  readonly mode: 'max' | 'min';
  readonly patience: number;
  readonly minDelta: number;
  best: { value: number; iter: number } | null = null;
  bad = 0;
  #lastSeen = -1;

  constructor(metric: string, options: EarlyStoppingOptions = {}) {
    super();
    this.metric = metric;
    this.mode = options.mode ?? 'min';
    this.patience = options.patience ?? 5;
    this.minDelta = options.minDelta ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 1) throw new InvalidArgumentError(`patience must be a positive integer, got ${String(this.patience)}`);
    if (!(this.minDelta >= 0)) throw new InvalidArgumentError(`minDelta must be >= 0, got ${String(this.minDelta)}`);
  }

  override afterStep(): void {
    const { metrics } = this.trainer.state.storage.state;
    const at = metrics.index.get(this.metric);
    if (at === undefined) return;
    const h = metrics.histories[at]!;
    if (h.count === 0 || h.count - 1 === this.#lastSeen) return;
    this.#lastSeen = h.count - 1;
    const [value, iter] = h.latest();
    const improved =
      Number.isFinite(value) &&
      (this.best === null || (this.mode === 'max' ? value > this.best.value + this.minDelta : value < this.best.value - this.minDelta));
    if (improved) {
      this.best = { value, iter };
      this.bad = 0;
      return;
    }
    this.bad++;
    if (this.bad >= this.patience) {
      const best = this.best ? `${this.best.value} at iteration ${this.best.iter}` : 'none';
      this.trainer.requestStop(`EarlyStopping: ${this.metric} did not improve by more than ${this.minDelta} for ${this.patience} evaluations (best ${best})`);
    }
  }

  override stateDict(): unknown {
    return { best: this.best, bad: this.bad, lastSeen: this.#lastSeen };
  }

  override loadStateDict(state: unknown): void {
    const s = state as { best: { value: number; iter: number } | null; bad: number; lastSeen: number };
    this.best = s.best;
    this.bad = s.bad;
    this.#lastSeen = s.lastSeen;
  }
}
