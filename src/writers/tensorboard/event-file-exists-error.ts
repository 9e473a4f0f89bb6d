import { TrainledgerError } from '../../errors/trainledger-error.js';

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
