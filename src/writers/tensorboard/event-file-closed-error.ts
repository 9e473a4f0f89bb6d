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
