import { TrainledgerError } from '../errors/trainledger-error.js';

/** `history(name)` of a metric nobody put. */
export class UnknownMetricError extends TrainledgerError {
  constructor(name: string, known: readonly string[]) {
    super(
      'ERR_UNKNOWN_METRIC',
      `no scalar named ${JSON.stringify(name)} has been put; known: ${known.length ? known.map((n) => JSON.stringify(n)).join(', ') : '(none)'}`,
    );
  }
}

/**
 * A put (or step, or append) on an EventStorage after it was closed: after the `train()` that
 * owned it returned. The run's outcome is already in the log; the event would be in neither.
 */
export class StorageClosedError extends TrainledgerError {
  constructor(what: string, iter: number, status: string | null) {
    super(
      'ERR_STORAGE_CLOSED',
      `${what}: this EventStorage is closed: ${status === null ? `it was closed at iteration ${iter}` : `its run ended (${status}) at iteration ${iter}`}, so this would be recorded neither in its state nor in the log; expected puts from runStep or a hook, before train() settles`,
    );
  }
}

/** A metric was put with a smoothing hint other than the one it was first put with. */
export class SmoothingHintMismatchError extends TrainledgerError {
  constructor(name: string, existing: boolean, given: boolean) {
    super(
      'ERR_SMOOTHING_HINT_MISMATCH',
      `scalar ${JSON.stringify(name)} was put with smoothingHint=${given}, but it was first put with smoothingHint=${existing}; a metric keeps its first hint`,
    );
  }
}

/** A window was asked of an empty history. */
export class EmptyHistoryError extends TrainledgerError {
  constructor(what: string) {
    super('ERR_EMPTY_HISTORY', `${what}: the history has no samples`);
  }
}
