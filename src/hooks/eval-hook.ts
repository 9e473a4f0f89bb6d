import { HookBase } from '../engine/hook-base.js';
import type { LoopState } from '../engine/loop-state.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * When an evaluation every `period` iterations runs (detectron2's EvalHook, and the
 * BestCheckpointer that follows it): `'step'` after a step whose count is a multiple of
 * `period`, `'final'` after training (after a failure iter + 1 < maxIter: not evaluated).
 */
export function evalDue(state: LoopState, period: number, when: 'step' | 'final'): boolean {
  const next = state.iter + 1;
  // The last one is done after training.
  if (when === 'step') return period > 0 && next % period === 0 && next !== state.maxIter;
  return next >= state.maxIter;
}

/** What an evaluation returns: numbers, nested in records. */
export interface EvalResults {
  readonly [key: string]: number | EvalResults;
}

/**
 * Flattens nested results with "/" (detectron2's flatten_results_dict); anything but a number
 * is an error naming its key.
 *
 * @example
 * ```ts
 * flattenResults({ bbox: { AP: 40.1 } }); // { 'bbox/AP': 40.1 }
 * ```
 */
export function flattenResults(results: unknown, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  if (results === null || typeof results !== 'object' || Array.isArray(results)) {
    throw new InvalidArgumentError(`[EvalHook] the eval function should return a nested record of numbers, got ${Array.isArray(results) ? 'an array' : typeof results}`);
  }
  for (const [k, v] of Object.entries(results)) {
    const key = prefix ? `${prefix}/${k}` : k;
    if (typeof v === 'number') out[key] = v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenResults(v, key));
    else throw new InvalidArgumentError(`[EvalHook] the eval function should return a nested record of numbers; got '${key}: ${JSON.stringify(v)}' instead`);
  }
  return out;
}

/**
 * Runs `fn` every `period` iterations and after training, putting its (flattened) results
 * without smoothing (detectron2's EvalHook). `fn` may be async. Unlike detectron2's, the hook
 * keeps its function after training and can be used for another `train()`.
 *
 * @example
 * ```ts
 * trainer.register(new EvalHook(500, async () => ({ accuracy: await evaluate(model, test) })));
 * ```
 */
export class EvalHook extends HookBase {
  readonly period: number;
  readonly fn: () => EvalResults | Promise<EvalResults> | null | undefined | Promise<null | undefined>;
  readonly evalAfterTrain: boolean;
  /** How many evaluations ran. */
  calls = 0;

  constructor(period: number, fn: EvalHook['fn'], evalAfterTrain = true) {
    super();
    if (!Number.isInteger(period) || period < 0) throw new InvalidArgumentError(`EvalHook period must be a non-negative integer (0 = only after training), got ${String(period)}`);
    this.period = period;
    this.fn = fn;
    this.evalAfterTrain = evalAfterTrain;
  }

  async #doEval(): Promise<void> {
    this.calls++;
    const results = await this.fn();
    if (results) {
      const flat = flattenResults(results);
      this.trainer.state.storage.putScalars(flat, false);
    }
    this.trainer.comm.synchronize();
  }

  override afterStep(): Promise<void> | void {
    if (evalDue(this.trainer.state, this.period, 'step')) return this.#doEval();
  }

  override afterTrain(): Promise<void> | void {
    if (this.evalAfterTrain && evalDue(this.trainer.state, this.period, 'final')) return this.#doEval();
  }
}
