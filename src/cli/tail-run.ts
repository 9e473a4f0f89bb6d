import type { LogFile } from '../log/log-file.js';
import { replayRun } from '../log/replay.js';
import { decodeBatch } from '../log/batch-codec.js';
import { evolveAll } from '../storage/evolve.js';
import type { TrainEvent } from '../events/train-event.js';
import { lineFor } from './describe-state.js';
import { sleep } from './open-run.js';
import type { CliIO } from './cli-io.js';

const ENDED = new Set(['completed', 'failed', 'stopped']);

/** Follows a run until it ends; returns the exit status: 0 completed or stopped, 1 failed or crashed. */
export async function tail(log: LogFile, runId: number, interval: number, window: number, io: CliIO): Promise<number> {
  // Catch up through the timeline, then follow new batches as they commit.
  let { state, lastSeq } = replayRun(log, runId);
  let rewinds = log.rewinds(runId).length;
  if (state.metrics.names.length > 0) io.out(lineFor(state, window, state.iter - 1));
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
      io.out(`resumed; ${lineFor(state, window, state.iter - 1)}`);
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
