import { LogFile } from './log-file.js';
import { replayRun, type ReplayResult } from './replay.js';
import { SnapshotCache } from './snapshot-cache.js';

/**
 * Fills a log's snapshot cache while its run is written, on the commit thread: after a commit
 * that reaches the cache's next interval, it replays what was committed since its last catch-up
 * (from its own read connection, so it sees only committed batches, and through `replayRun`, so
 * the snapshots are exactly what a reader's replay would store) and the replay offers the
 * snapshots. The first `show` of a long run then starts from the last of them.
 *
 * Never a reason for the run to fail: if the cache cannot be opened or written, it stops.
 *
 * @example
 * ```ts
 * const filler = CacheFiller.open('runs/x.sqlite', 1);
 * filler?.committed(4095); // after the commit of step 4095: snapshot at 4096
 * filler?.close();
 * ```
 */
export class CacheFiller {
  readonly #log: LogFile;
  readonly #cache: SnapshotCache;
  readonly #runId: number;
  #from: Pick<ReplayResult, 'state' | 'lastSeq'> | undefined;
  /** A catch-up is due once a step at or past this iteration has committed. */
  #due: number;
  #stopped = false;

  private constructor(log: LogFile, cache: SnapshotCache, runId: number) {
    this.#log = log;
    this.#cache = cache;
    this.#runId = runId;
    this.#due = cache.interval - 1;
  }

  /** A filler for run `runId` of the log at `path`, or null when its cache cannot be written. */
  static open(path: string, runId: number): CacheFiller | null {
    let log: LogFile | undefined;
    try {
      log = LogFile.open(path, { readonly: true });
      const cache = SnapshotCache.open(log);
      if (cache !== null) return new CacheFiller(log, cache, runId);
    } catch {
      // No cache is only slower reads later; the run goes on.
    }
    log?.close();
    return null;
  }

  /** After a commit whose last step was `stepIter`: catches up when an interval was crossed. */
  committed(stepIter: number): void {
    if (this.#stopped || stepIter < this.#due) return;
    try {
      const r = replayRun(this.#log, this.#runId, { cache: this.#cache, from: this.#from });
      this.#from = { state: r.state, lastSeq: r.lastSeq };
      this.#due = (Math.floor(r.state.iter / this.#cache.interval) + 1) * this.#cache.interval - 1;
    } catch {
      this.close();
    }
  }

  close(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#from = undefined;
    this.#cache.close();
    this.#log.close();
  }
}
