import { TrainledgerError } from '../errors/trainledger-error.js';

/** Another rank of the group failed: a collective this rank waits in cannot complete. */
export class CommAbortedError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_COMM_ABORTED', message, options);
  }
}

/** A collective waited longer than the group's timeout for the other ranks. */
export class CommTimeoutError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_COMM_TIMEOUT', message, options);
  }
}

/** Ranks called a collective with values that do not match (lengths, dictionary keys), or too large. */
export class CommMismatchError extends TrainledgerError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('ERR_COMM_MISMATCH', message, options);
  }
}

/** A rank of a launched group failed; the message names the rank and its error. */
export class RankFailedError extends TrainledgerError {
  readonly rank: number;
  constructor(rank: number, message: string, options?: { readonly cause?: unknown }) {
    super('ERR_RANK_FAILED', `rank ${rank} failed: ${message}`, options);
    this.rank = rank;
  }
}
