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
 * Replays the run to its end and says the line of its newest write point: the state a writer
 * saw there (just before its `writer-cursor`), labelled with that writer's iteration, so the line
 * is the one metrics.json got at that point, never the state of a step in between writes.
 */
function catchUp(log: LogFile, runId: number, window: number): { state: StorageState; lastSeq: number; line: string | null } {
  let line: string | null = null;
  // The first writer of a write point gives its line (as while following); the others' cursors
  // at the same point leave the metrics as they are.
  let pointIter = -1;
  const { state, lastSeq } = replayRun(log, runId, {
    onEvent: (before, e) => {
      if (e.type !== 'writer-cursor' || before.iter === pointIter) return;
      pointIter = before.iter;
      line = lineFor(before, window, e.data.iter);
    },
  });
  return { state, lastSeq, line };
}

/**
 * Follows a run until it ends; returns the exit status: 0 completed or stopped, 1 failed or
 * crashed. Prints the run's newest written line, then a line at each write point as it commits.
 */
export async function tail(log: LogFile, runId: number, interval: number, window: number, io: CliIO): Promise<number> {
  // Catch up through the timeline, then follow new batches as they commit.
  let { state, lastSeq, line } = catchUp(log, runId, window);
  let rewinds = log.rewinds(runId).length;
  if (line !== null) io.out(line);
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
      rewinds = log.rewinds(runId).length;
      ({ state, lastSeq } = replayRun(log, runId));
      const resume = state.info.resumes.at(-1);
      io.out(`run ${runId} resumed${resume ? ` after iteration ${resume.iter}` : ''}`);
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
