import type { LogFile } from '../log/log-file.js';
import { replayRun } from '../log/replay.js';
import type { CheckpointStore } from '../checkpoint/checkpoint-store.js';
import type { CheckpointInfo } from '../checkpoint/index.js';
import type { StorageState } from '../storage/storage-state.js';
import type { TriedCheckpoint } from './errors.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Where a crashed or stopped run can continue from. */
export interface ResumeCandidate {
  readonly runId: number;
  readonly checkpoint: CheckpointInfo;
  /** The checkpoint's iteration: the run continues at `iter + 1`. */
  readonly iter: number;
  /** The storage state right after step `iter`, rebuilt from the log. */
  readonly state: StorageState;
  /** Seq of the batch of step `iter` (where the resumed timeline attaches). */
  readonly toSeq: number;
}

/**
 * Finds the newest checkpoint of the newest run named `runName` that is both complete on disk
 * and recorded on the run's live timeline (its `checkpoint-saved` event committed with its
 * step), and rebuilds the storage state as it was right after that step.
 *
 * A checkpoint written just before a crash whose step never reached the log is skipped (the log
 * could not rebuild its state), as is one overwritten since (e.g. `model_best` saved again at a
 * later, uncommitted step): the name and the iteration must both match.
 *
 * @example
 * ```ts
 * const point = findResumePoint(log, 'demo', new CheckpointStore('runs/ckpt'));
 * ```
 */
export function findResumePoint(log: LogFile, runName: string, store: CheckpointStore): ResumeCandidate | null {
  for (const candidate of resumeCandidates(log, runName, store)) return candidate;
  return null;
}

/**
 * Every usable resume point of the run, newest first (see `findResumePoint`); a caller whose
 * load of one fails (a corrupt file) goes on to the next. Each checkpoint the log records but
 * that cannot be a resume point is added to `skipped`, with why.
 *
 * @example
 * ```ts
 * const skipped: TriedCheckpoint[] = [];
 * for (const c of resumeCandidates(log, 'demo', store, skipped)) { ... }
 * ```
 */
export function* resumeCandidates(log: LogFile, runName: string, store: CheckpointStore, skipped?: TriedCheckpoint[]): Generator<ResumeCandidate> {
  const run = [...log.runs()].reverse().find((r) => r.name === runName);
  if (!run) return;
  const onDisk = new Map(store.list().map((c) => [c.name, c]));
  const { state: final } = replayRun(log, run.id);
  const recorded = [...final.info.checkpoints].sort((a, b) => b.iter - a.iter);
  for (const c of recorded) {
    const info = onDisk.get(c.name);
    if (info === undefined) {
      // list() leaves out a directory whose manifest is unreadable or whose files have the wrong size.
      const reason = existsSync(join(store.dir, c.name))
        ? 'incomplete in the folder (its manifest cannot be read or a file has the wrong size)'
        : 'not in the folder';
      skipped?.push({ name: c.name, iter: c.iter, reason });
      continue;
    }
    if (info.iteration !== c.iter) {
      skipped?.push({ name: c.name, iter: c.iter, reason: `the folder holds it as saved at iteration ${info.iteration ?? '(none)'} (saved again at a step the log never committed)` });
      continue;
    }
    const { state, lastSeq, reached } = replayRun(log, run.id, { untilIter: c.iter });
    if (!reached) {
      skipped?.push({ name: c.name, iter: c.iter, reason: 'its step is not on the run\'s timeline in the log' });
      continue;
    }
    yield { runId: run.id, checkpoint: info, iter: c.iter, state, toSeq: lastSeq };
  }
}
