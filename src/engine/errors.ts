import { TrainledgerError } from '../errors/trainledger-error.js';

/** The total loss was NaN or infinite; raised before the optimizer applied that step. */
export class NonFiniteLossError extends TrainledgerError {
  readonly iter: number;
  readonly losses: Readonly<Record<string, number>>;
  constructor(iter: number, losses: Readonly<Record<string, number>>) {
    super(
      'ERR_NON_FINITE_LOSS',
      `Loss became infinite or NaN at iteration=${iter}!\nloss_dict = ${JSON.stringify(
        Object.fromEntries(Object.entries(losses).map(([k, v]) => [k, String(v)])),
      )}`,
    );
    this.iter = iter;
    this.losses = losses;
  }
}

/** `train(startIter, maxIter)` with nothing to do (detectron2 accepts it silently; we don't). */
export class EmptyTrainingRangeError extends TrainledgerError {
  constructor(startIter: number, maxIter: number) {
    super(
      'ERR_EMPTY_TRAINING_RANGE',
      `train(startIter=${startIter}, maxIter=${maxIter}): startIter must be below maxIter; nothing would be trained${
        startIter === maxIter ? ' (a resumed run that already reached maxIter is complete)' : ''
      }`,
    );
  }
}

export interface HookErrorOptions {
  /** The lifecycle event a reactive hook was processing when it failed (its type). */
  readonly event?: string | null;
  /** @internal For subclasses: their code and message. */
  readonly code?: string;
  readonly message?: string;
}

/** Where a hook failed: `afterStep`, or for a reactive hook `afterStep (step-completed)`. */
function where(phase: string, event: string | null): string {
  return event === null || event === phase ? phase : `${phase} (${event})`;
}

/**
 * A hook threw or rejected; the original error is the `cause`. For a reactive hook, `event` is
 * the lifecycle event its pipeline was processing, and `phase` and `iter` are that event's.
 */
export class HookError extends TrainledgerError {
  readonly hook: string;
  readonly phase: string;
  readonly iter: number;
  /** The type of the lifecycle event a reactive hook was processing; null for a class hook. */
  readonly event: string | null;
  constructor(hook: string, phase: string, iter: number, cause: unknown, options: HookErrorOptions = {}) {
    const event = options.event ?? null;
    super(
      options.code ?? 'ERR_HOOK_FAILED',
      options.message ?? `hook ${hook} failed in ${where(phase, event)} at iteration ${iter}: ${(cause as Error)?.message ?? String(cause)}`,
      cause === undefined ? undefined : { cause },
    );
    this.hook = hook;
    this.phase = phase;
    this.iter = iter;
    this.event = event;
  }
}

/** A hook's promise did not settle within `hookTimeoutMs` (TrainerOptions, or its registration's). */
export class HookTimeoutError extends HookError {
  readonly timeoutMs: number;
  constructor(hook: string, phase: string, iter: number, timeoutMs: number, event: string | null = null) {
    super(hook, phase, iter, undefined, {
      event,
      code: 'ERR_HOOK_TIMEOUT',
      message: `hook ${hook} did not settle within hookTimeoutMs=${timeoutMs} in ${where(phase, event)} at iteration ${iter}; expected its promise to settle sooner, or a larger hookTimeoutMs for it (its registration's hookTimeoutMs: null turns the limit off)`,
    });
    this.timeoutMs = timeoutMs;
  }
}

/** The data source ended before maxIter. */
export class DataExhaustedError extends TrainledgerError {
  constructor(iter: number) {
    super('ERR_DATA_EXHAUSTED', `the data source ended at iteration ${iter}, before maxIter; use an endless iterable (e.g. ShuffledBatches) or lower maxIter`);
  }
}

/** `train()` was called while the trainer was already training. */
export class TrainerBusyError extends TrainledgerError {
  constructor() {
    super('ERR_TRAINER_BUSY', 'train() was called while this trainer is already training');
  }
}

/** One checkpoint `resumeOrLoad` tried, and why it could not resume from it. */
export interface TriedCheckpoint {
  readonly name: string;
  /** The iteration the log recorded for it. */
  readonly iter: number;
  readonly reason: string;
}

/**
 * The log records checkpoints of the run but none can be resumed from: starting a new run would
 * overwrite them, so `resumeOrLoad` stops unless told `ifNoValidCheckpoint: 'start-fresh'`.
 */
export class NoValidCheckpointError extends TrainledgerError {
  readonly dir: string;
  readonly runName: string;
  readonly tried: readonly TriedCheckpoint[];
  constructor(dir: string, runName: string, tried: readonly TriedCheckpoint[]) {
    super(
      'ERR_NO_VALID_CHECKPOINT',
      `resumeOrLoad: none of the ${tried.length} checkpoint(s) the log records for run ${JSON.stringify(runName)} in ${dir} can be resumed from (${tried
        .map((t) => `${t.name} at iteration ${t.iter}: ${t.reason}`)
        .join('; ')
        .replace(/\s*\n\s*/g, ' ')}); expected at least one valid checkpoint: repair or move them, or pass { ifNoValidCheckpoint: 'start-fresh' } to start a new run`,
    );
    this.dir = dir;
    this.runName = runName;
    this.tried = tried;
  }
}

/** The backend asked for cannot be used here. */
export class BackendUnavailableError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_BACKEND_UNAVAILABLE', message, options);
  }
}
