import { LogFile } from './log-file.js';
import { replayRun, type ReplayResult } from './replay.js';
import { SnapshotCache } from './snapshot-cache.js';
import { BLOCK } from './snapshot-blocks.js';

/**
 * Fills a log's snapshot cache while its run is written, on the commit thread: after a commit
 * that reaches the cache's next interval, it replays what was committed since its last catch-up
 * (from its own read connection, so it sees only committed batches, and through `replayRun`, so
 * the snapshots are exactly what a reader's replay would store) and the replay offers the
 * snapshots. The first `show` of a long run then starts from the last of them. Nothing is opened
 * before the first interval: a run shorter than that gets no cache file.
 *
 * Never a reason for the run to fail: if the cache cannot be opened or written, it stops.
 *
 * @example
 * ```ts
 * const filler = new CacheFiller('runs/x.sqlite', 1);
 * filler.committed(4095); // after the commit of step 4095: snapshot at 4096
 * filler.close();
 * ```
 */
export class CacheFiller {
  readonly #path: string;
  readonly #runId: number;
  #log: LogFile | null = null;
  #cache: SnapshotCache | null = null;
  #from: Pick<ReplayResult, 'state' | 'lastSeq'> | undefined;
  /** A catch-up is due once a step at or past this iteration has committed. */
  #due = BLOCK - 1;
  #stopped = false;

  constructor(path: string, runId: number) {
    this.#path = path;
    this.#runId = runId;
  }

  /** After a commit whose last step was `stepIter`: catches up when an interval was crossed. */
  committed(stepIter: number): void {
    if (this.#stopped || stepIter < this.#due) return;
    try {
      const log = (this.#log ??= LogFile.open(this.#path, { readonly: true }));
      const cache = (this.#cache ??= SnapshotCache.open(log));
      // No cache here (a read-only folder): only slower reads later; the run goes on.
      if (cache === null) return this.close();
      const r = replayRun(log, this.#runId, { cache, from: this.#from });
      this.#from = { state: r.state, lastSeq: r.lastSeq };
      this.#due = (Math.floor(r.state.iter / cache.interval) + 1) * cache.interval - 1;
    } catch {
      this.close();
    }
  }

  close(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#from = undefined;
    this.#cache?.close();
    this.#log?.close();
  }
}
