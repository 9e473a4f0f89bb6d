import type { LogFile } from '../log/log-file.js';
import { replayRun } from '../log/replay.js';
import { decodeBatch } from '../log/batch-codec.js';
import { evolveAll } from '../storage/evolve.js';
import type { TrainEvent } from '../events/train-event.js';
import type { StorageState } from '../storage/storage-state.js';
import { lineFor } from './describe-state.js';
import { sleep } from './open-run.js';
import type { CliIO } from './cli-io.js';

const ENDED = new Set(['completed', 'failed', 'stopped']);

/**
 * Replays the run to its end with the lines of its write points: the state a writer saw there
 * (just before its `writer-cursor`), labelled with that writer's iteration, so each line is the
 * one metrics.json got at that point. `after` null: only the newest line; a number: every line of
 * a write point past that iteration (those a resume wrote before tail noticed it).
 */
function replayLines(log: LogFile, runId: number, window: number, after: number | null): { state: StorageState; lastSeq: number; lines: string[] } {
  let lines: string[] = [];
  // The first writer of a write point gives its line (as while following); the others' cursors
  // at the same point leave the metrics as they are.
  let pointIter = -1;
  const { state, lastSeq } = replayRun(log, runId, {
    onEvent: (before, e) => {
      if (e.type !== 'writer-cursor' || before.iter === pointIter) return;
      pointIter = before.iter;
      const line = lineFor(before, window, e.data.iter);
      if (after === null) lines = [line];
      else if (before.iter > after) lines.push(line);
    },
  });
  return { state, lastSeq, lines };
}

/**
 * Follows a run until it ends; returns the exit status: 0 completed or stopped, 1 failed or
 * crashed. Prints the run's newest written line, then a line at each write point as it commits.
 */
export async function tail(log: LogFile, runId: number, interval: number, window: number, io: CliIO): Promise<number> {
  // Catch up through the timeline, then follow new batches as they commit.
  let { state, lastSeq, lines } = replayLines(log, runId, window, null);
  let rewinds = log.rewinds(runId).length;
  for (const line of lines) io.out(line);
  const names = (): string[] => log.names(runId);
  for (let writerGone = false; ; ) {
    if (ENDED.has(state.info.status)) {
      io.out(`run ${runId} ${state.info.status}${state.info.statusDetail ? `: ${state.info.statusDetail.split('\n')[0]}` : ''} at iteration ${state.iter}`);
      return state.info.status === 'failed' ? 1 : 0;
    }
    if (writerGone) {
      io.out(`run ${runId} crashed at iteration ${state.iter} (its writer is gone without recording an end)`);
      return 1;
    }
    await sleep(interval);
    // Asked before reading: whatever the writer committed before letting go is read below.
    writerGone = !log.isLive(runId);
    if (log.rewinds(runId).length !== rewinds) {
      // The run was resumed from a checkpoint: rebuild along the new timeline.
      const all = log.rewinds(runId);
      rewinds = all.length;
      const resumedAfter = all.at(-1)!.toIter;
      io.out(`run ${runId} resumed after iteration ${resumedAfter}`);
      ({ state, lastSeq, lines } = replayLines(log, runId, window, resumedAfter));
      for (const line of lines) io.out(line);
      continue;
    }
    const fresh = [...log.batches(runId, lastSeq + 1)];
    // Names are committed with the batch that first uses them: read them after the batches.
    const n = names();
    for (const batch of fresh) {
      const events: TrainEvent[] = decodeBatch(batch.body, n);
      let printed = false;
      for (const e of events) {
        if (e.type === 'writer-cursor' && !printed) {
          // The writer's own iteration: the line metrics.json got at this write point.
          io.out(lineFor(state, window, e.data.iter));
          printed = true;
        }
        state = evolveAll(state, [e]);
      }
      lastSeq = batch.seq;
    }
  }
}
