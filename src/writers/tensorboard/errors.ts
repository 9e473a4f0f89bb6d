import { TrainledgerError } from '../../errors/trainledger-error.js';

/**
 * Thrown when an {@link EventFileWriter} is used after `close()`: its descriptor is gone, and
 * silently dropping the events would leave a TensorBoard log that looks complete but is not.
 *
 * @example
 * ```ts
 * writer.close();
 * try { writer.flush() } catch (e) { if (e instanceof EventFileClosedError) console.error(e.path) }
 * ```
 */
export class EventFileClosedError extends TrainledgerError {
  readonly path: string;
  constructor(path: string, operation: string) {
    super(
      'ERR_TFEVENTS_WRITER_CLOSED',
      `cannot ${operation} event file ${JSON.stringify(path)}: the writer is closed; expected an open writer`,
    );
    this.path = path;
  }
}

/**
 * Thrown by {@link EventFileWriter} when its target file already exists. The writer refuses to
 * truncate it because that file is usually another run's log (two writers started in the same
 * second on the same host) or the original a regenerated copy is meant to be compared with.
 *
 * @example
 * ```ts
 * try { new EventFileWriter(dir, { fileName }) } catch (e) {
 *   if (e instanceof EventFileExistsError) console.error(`${e.path} exists`);
 * }
 * ```
 */
export class EventFileExistsError extends TrainledgerError {
  readonly path: string;
  constructor(path: string, options?: { readonly cause?: unknown }) {
    super(
      'ERR_TFEVENTS_FILE_EXISTS',
      `event file ${JSON.stringify(path)} already exists; expected a path that does not exist yet ` +
        '(pass another fileName or directory, or remove the file)',
      options,
    );
    this.path = path;
  }
}

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
