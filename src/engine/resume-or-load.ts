import type * as tf from '@tensorflow/tfjs';
import { resumeCandidates } from './resume.js';
import { NoValidCheckpointError, type TriedCheckpoint } from './errors.js';
import type { ResumePoint } from './run-session.js';
import type { TrainerStateDict } from './state-dict.js';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import { CheckpointCorruptError } from '../checkpoint/errors.js';
import type { CheckpointModel } from '../checkpoint/index.js';
import type { LogFile } from '../log/log-file.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

export interface ResumeOrLoadOptions {
  /** `false`: do not resume; return `startIter`. Default true. */
  readonly resume?: boolean;
  /** Where a new run starts when there is nothing to resume. Default 0. */
  readonly startIter?: number;
  /**
   * When the log records checkpoints of the run but none can be loaded (all corrupt, missing,
   * or overwritten): `'throw'` (default) a NoValidCheckpointError; `'start-fresh'`, start a new
   * run at `startIter` (its checkpoints will replace the old ones of the same names).
   */
  readonly ifNoValidCheckpoint?: 'throw' | 'start-fresh';
}

/** What `resumeOrLoad` restores a checkpoint into (a SimpleTrainer). */
export interface Resumable {
  readonly options: { readonly runName?: string };
  readonly checkpointModel: CheckpointModel | undefined;
  readonly optimizer: tf.Optimizer;
  loadStateDict(state: TrainerStateDict): Promise<void>;
  setResumePoint(point: ResumePoint | null): void;
}

/**
 * Continues the run named `runName` (the trainer's options) from its newest usable checkpoint
 * in `dir`: restores model, optimizer, hook states and data position, rebuilds the EventStorage
 * state after that step from the log (`openLog()`; smoothing windows and histories intact), and
 * returns the iteration to start at. A corrupt checkpoint is skipped for an older one, with a
 * warning. With `resume: false`, or when the log records no checkpoint of the run (a first run,
 * or one that ended before its first checkpoint), returns `startIter` (default 0) and the next
 * `train()` starts a new run. When the log records checkpoints but none can be loaded, it
 * throws `NoValidCheckpointError` rather than start a new run over them, unless
 * `ifNoValidCheckpoint` is `'start-fresh'`.
 *
 * @example
 * ```ts
 * const start = await resumeOrLoad(trainer, () => log, 'runs/ckpt'); // or trainer.resumeOrLoad('runs/ckpt')
 * await trainer.train(start, maxIter);
 * ```
 */
export async function resumeOrLoad(trainer: Resumable, openLog: () => LogFile | null, dir: string, options: ResumeOrLoadOptions = {}): Promise<number> {
  trainer.setResumePoint(null);
  const start = options.startIter ?? 0;
  const ifNone = options.ifNoValidCheckpoint ?? 'throw';
  if (ifNone !== 'throw' && ifNone !== 'start-fresh') {
    throw new InvalidArgumentError(`resumeOrLoad: ifNoValidCheckpoint must be 'throw' or 'start-fresh', got ${JSON.stringify(ifNone)}`);
  }
  if (options.resume === false) return start;
  const log = openLog();
  if (log === null) throw new InvalidArgumentError('resumeOrLoad needs the trainer to have a log (options.log): the log is where the run is rebuilt from');
  const store = new CheckpointStore(dir);
  await store.cleanTemp();
  const runName = trainer.options.runName ?? 'run';
  const tried: TriedCheckpoint[] = [];
  for (const point of resumeCandidates(log, runName, store, tried)) {
    let state: unknown;
    try {
      ({ state } = await store.load(point.checkpoint.name, { model: trainer.checkpointModel, optimizer: trainer.optimizer }));
    } catch (e) {
      // A damaged checkpoint is skipped for an older one; load verifies before touching weights.
      if (e instanceof CheckpointCorruptError) {
        process.emitWarning(`skipping checkpoint ${point.checkpoint.name}: ${e.message}`, { code: 'TRAINLEDGER_CORRUPT_CHECKPOINT' });
        tried.push({ name: point.checkpoint.name, iter: point.iter, reason: e.message });
        continue;
      }
      throw e;
    }
    await trainer.loadStateDict(state as TrainerStateDict);
    trainer.setResumePoint({ runId: point.runId, state: point.state, iter: point.iter, toSeq: point.toSeq });
    return point.iter + 1;
  }
  // Checkpoints the log records but none usable: a new run would overwrite them under the same names.
  if (tried.length > 0 && ifNone === 'throw') throw new NoValidCheckpointError(store.dir, runName, tried);
  return start;
}
