import type { CommitObserverSpec } from './commit-observer.js';
import type { CommitThreadData } from './commit-protocol.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * How durable the log is, and what a crash can lose.
 *
 * - `'step'` (default): every step's batch is committed as soon as the commit thread gets it
 *   (WAL, `synchronous=NORMAL`). A killed process loses only batches still in the hand-off ring
 *   (in practice the step in progress: a commit takes microseconds, a step milliseconds). An OS
 *   crash or power cut can also lose the commits made since the last WAL checkpoint, which the
 *   commit thread runs at least every `checkpointEveryMs` (1 s) while there is something to
 *   fold in, and whenever the WAL passes `walMaxBytes` (16 MiB).
 * - `{ groupMs: N }`: commits at most every N ms. A killed process loses at most the last N ms
 *   of steps; cheaper on slow disks.
 * - `'fsync'`: every commit is fsynced (`synchronous=FULL`): also survives power loss, at the
 *   price of one fsync per commit on the commit thread.
 *
 * Whatever the mode, `flush()` / `flushSync()` return once everything appended before them is
 * committed; checkpoints call it, so a checkpoint never refers to metrics the log lost.
 */
export type Durability = 'step' | 'fsync' | { readonly groupMs: number };

export interface LogAppenderOptions {
  readonly durability?: Durability;
  /** Size of the hand-off ring; bounds what a crash can lose and the memory used. Default 8 MiB. */
  readonly ringBytes?: number;
  /**
   * PRAGMAs run on the commit thread's connection after it opens, e.g. `max_page_count = 100`
   * to cap the log's size (used to test a full disk).
   */
  readonly pragmas?: readonly string[];
  /**
   * The WAL is checkpointed (folded into the database file, which is then fsynced) whenever it
   * holds more than this many bytes of pages. Default 16 MiB; bounds the WAL file's size while no
   * reader holds an old snapshot.
   */
  readonly walMaxBytes?: number;
  /**
   * Committed steps reach the database file (and survive a power cut) at most this long after
   * their commit: the commit thread checkpoints when this long has passed since its last
   * checkpoint. Default 1000 ms.
   */
  readonly checkpointEveryMs?: number;
  /**
   * A module the commit thread loads to see each batch before it commits: the trainer passes
   * `projectionObserver(specs)` here so metric writers run as projections of the log, writing at
   * the `write-point` events appended by `writePoint`, off the training thread.
   */
  readonly observer?: CommitObserverSpec | null;
  /**
   * Fill the log's snapshot cache (`<log>.snapshots`) on the commit thread as steps commit, so
   * the first `show` or `replayRun` of a long run starts from a snapshot instead of the log's
   * start. Costs the commit thread a fold of the run, and memory for one more copy of the
   * histories. Default false.
   */
  readonly fillSnapshotCache?: boolean;
}

/** What the options decide of the commit thread's work. */
export type CommitSettings = Pick<CommitThreadData, 'synchronous' | 'groupMs' | 'pragmas' | 'walMaxBytes' | 'checkpointEveryMs' | 'observer' | 'fillSnapshotCache'>;

/**
 * Checks an appender's options (InvalidArgumentError naming the bad one) and fills in the defaults.
 *
 * @example
 * ```ts
 * commitSettings({ durability: { groupMs: 50 } }).groupMs; // 50
 * ```
 */
export function commitSettings(options: LogAppenderOptions): CommitSettings {
  const durability = options.durability ?? 'step';
  let groupMs = 0;
  if (typeof durability === 'object') {
    if (!(durability.groupMs > 0)) {
      throw new InvalidArgumentError(`durability.groupMs must be a positive number of milliseconds, got ${durability.groupMs}`);
    }
    groupMs = durability.groupMs;
  } else if (durability !== 'step' && durability !== 'fsync') {
    throw new InvalidArgumentError(`durability must be 'step', 'fsync' or { groupMs }, got ${JSON.stringify(durability)}`);
  }
  const walMaxBytes = options.walMaxBytes ?? 16 << 20;
  if (!(Number.isInteger(walMaxBytes) && walMaxBytes >= 4096)) {
    throw new InvalidArgumentError(`walMaxBytes must be a whole number of bytes ≥ 4096, got ${walMaxBytes}`);
  }
  const checkpointEveryMs = options.checkpointEveryMs ?? 1000;
  if (!(checkpointEveryMs > 0)) {
    throw new InvalidArgumentError(`checkpointEveryMs must be a positive number of milliseconds, got ${checkpointEveryMs}`);
  }
  return {
    synchronous: durability === 'fsync' ? 'FULL' : 'NORMAL',
    groupMs,
    pragmas: options.pragmas ?? [],
    walMaxBytes,
    checkpointEveryMs,
    observer: options.observer ?? null,
    fillSnapshotCache: options.fillSnapshotCache ?? false,
  };
}
