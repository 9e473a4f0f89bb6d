import type * as tf from '@tensorflow/tfjs';
import type { TrainerBase } from '../engine/trainer-base.js';
import { SimpleTrainer } from '../engine/simple-trainer.js';
import { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { CheckpointInfo, CheckpointModel } from '../checkpoint/index.js';
import { event } from '../events/train-event.js';

/** What a checkpointer saves: given explicitly, or taken from a SimpleTrainer. */
export interface CheckpointSource {
  readonly model?: CheckpointModel;
  readonly optimizer?: tf.Optimizer;
}

function modelOf(trainer: TrainerBase): CheckpointModel | undefined {
  return trainer instanceof SimpleTrainer ? trainer.checkpointModel : undefined;
}

/**
 * Saves model, optimizer and trainer state under `name`, after making sure the log holds every
 * event before this point, and records the checkpoint in the log (in the current step's batch,
 * so the checkpoint becomes resumable exactly when that step is committed).
 *
 * @example
 * ```ts
 * await saveCheckpoint(trainer, store, 'model_0000099', {});
 * ```
 */
export async function saveCheckpoint(trainer: TrainerBase, store: CheckpointStore, name: string, source: CheckpointSource): Promise<CheckpointInfo> {
  const { optimizer: _weights, ...state } = await trainer.stateDict();
  const model = source.model ?? modelOf(trainer);
  const optimizer = source.optimizer ?? (trainer instanceof SimpleTrainer ? trainer.optimizer : undefined);
  // A checkpoint must never refer to metrics the log could still lose.
  await trainer.appender?.flush();
  const info = await store.save(name, { model, optimizer, state });
  const { storage, iter } = trainer.state;
  storage.append(event('checkpoint-saved', { iter, name, path: info.path }));
  return info;
}

export { CheckpointStore };
