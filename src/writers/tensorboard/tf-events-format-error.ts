import { TrainledgerError } from '../../errors/trainledger-error.js';

/**
 * What is wrong with the bytes: `truncated` (the input ends inside a record), `corrupt` (a CRC
 * does not match, so bytes changed after writing) or `invalid-event` (the record is intact but
 * its payload is not a well-formed `tensorflow.Event`).
 */
export type TfEventsFormatReason = 'truncated' | 'corrupt' | 'invalid-event';

/**
 * Thrown when TFRecord / `tensorflow.Event` bytes cannot be read back. `offset` is the byte offset
 * in the input (the file, for {@link readEventFile}) where the problem was found, so a CLI can
 * report it and a caller can decide to keep the records before it.
 *
 * @example
 * ```ts
 * try { readEventFile(path) } catch (e) {
 *   if (e instanceof TfEventsFormatError && e.reason === 'truncated') console.warn(`cut at ${e.offset}`);
 * }
 * ```
 */
export class TfEventsFormatError extends TrainledgerError {
  readonly reason: TfEventsFormatReason;
  readonly offset: number;
  constructor(
    reason: TfEventsFormatReason,
    offset: number,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super('ERR_TFEVENTS_FORMAT', message, options);
    this.reason = reason;
    this.offset = offset;
  }
}
