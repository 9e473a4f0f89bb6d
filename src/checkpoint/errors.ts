import { TrainledgerError } from '../errors/index.js';

/**
 * A checkpoint's files do not match its manifest (missing, truncated, altered) or the
 * manifest itself is missing or malformed. `file` is the offending path.
 *
 * @example
 * ```ts
 * try { await store.load('iter-100', { model }); } catch (e) {
 *   if (e instanceof CheckpointCorruptError) console.error(`bad file: ${e.file}`);
 * }
 * ```
 */
export class CheckpointCorruptError extends TrainledgerError {
  readonly checkpoint: string;
  readonly file: string;
  constructor(checkpoint: string, file: string, problem: string, options?: { readonly cause?: unknown }) {
    super('ERR_CHECKPOINT_CORRUPT', `checkpoint "${checkpoint}" is corrupt: ${file}: ${problem}`, options);
    this.checkpoint = checkpoint;
    this.file = file;
  }
}

/**
 * No complete checkpoint exists under the requested name.
 *
 * @example
 * ```ts
 * try { await store.remove('nope'); } catch (e) {
 *   if (e instanceof CheckpointNotFoundError) console.log(e.path);
 * }
 * ```
 */
export class CheckpointNotFoundError extends TrainledgerError {
  readonly checkpoint: string;
  readonly path: string;
  constructor(checkpoint: string, path: string) {
    super('ERR_CHECKPOINT_NOT_FOUND', `checkpoint "${checkpoint}" was not found: expected a directory at ${path}`);
    this.checkpoint = checkpoint;
    this.path = path;
  }
}

/**
 * A valid checkpoint does not fit the object it is loaded into (other architecture,
 * other optimizer class, missing part).
 *
 * @example
 * ```ts
 * try { await store.load('iter-100', { optimizer: tf.train.sgd(0.1) }); } catch (e) {
 *   if (e instanceof CheckpointMismatchError) console.error(e.message);
 * }
 * ```
 */
export class CheckpointMismatchError extends TrainledgerError {
  readonly checkpoint: string;
  constructor(checkpoint: string, message: string) {
    super('ERR_CHECKPOINT_MISMATCH', `checkpoint "${checkpoint}" does not fit: ${message}`);
    this.checkpoint = checkpoint;
  }
}

/**
 * A `model.json` / weights file pair read by {@link nodeFileIO} is missing or malformed,
 * or a model cannot be written in that format.
 *
 * @example
 * ```ts
 * try { await tf.loadLayersModel(nodeFileIO('/no/such/dir')); } catch (e) {
 *   if (e instanceof ModelFileError) console.error(e.file);
 * }
 * ```
 */
export class ModelFileError extends TrainledgerError {
  readonly file: string;
  constructor(file: string, problem: string, options?: { readonly cause?: unknown }) {
    super('ERR_MODEL_FILE', `${file}: ${problem}`, options);
    this.file = file;
  }
}
