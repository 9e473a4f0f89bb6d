import { hostname } from 'node:os';
import type { LoopStateRecord } from './loop-state.js';
import type { TrainerOptions } from './trainer-base.js';
import { EventStorage } from '../storage/event-storage.js';
import type { StorageState } from '../storage/storage-state.js';
import { LogFile } from '../log/log-file.js';
import type { LogAppender } from '../log/log-appender.js';
import { projectionObserver } from '../projections/log-projections.js';
import type { WriterSpec } from '../projections/metric-writer.js';
import { event, type TrainEvent } from '../events/train-event.js';

/** The first error of a run, boxed: a hook may throw `undefined`, which is still a failure. */
export type Failure = { readonly e: unknown } | null;

/** A resume point prepared by `resumeOrLoad`: continue run `runId` from `state`. */
export interface ResumePoint {
  readonly runId: number;
  readonly state: StorageState;
  /** Iteration of the checkpoint (the last step whose effects the checkpoint holds). */
  readonly iter: number;
  readonly toSeq: number;
}

/** What a `train()` call hands its session when it opens. */
export interface RunStart {
  /** The metric writers the hooks offer to run on the log's commit thread (asked only with a log). */
  readonly projections: () => readonly WriterSpec[];
  /** Metadata recorded in `run-started` beside the host's (TrainerBase.hostInfo). */
  readonly hostInfo: () => { readonly tfjs?: string; readonly backend?: string };
  /** Told of each event put into the run's storage, while `listening()`. */
  readonly onEvent: (e: TrainEvent) => void;
  readonly listening: () => boolean;
}

/** How a run ended, as the log records it. */
type RunOutcome = { readonly kind: 'failed'; readonly error: unknown } | { readonly kind: 'stopped'; readonly reason: string } | { readonly kind: 'completed' };

function outcomeEvent(outcome: RunOutcome, iter: number, wallTime: number): TrainEvent {
  switch (outcome.kind) {
    case 'failed': {
      const err = outcome.error as Error;
      return event('run-failed', { iter, wallTime, message: err?.message ?? String(err), stack: err?.stack });
    }
    case 'stopped':
      return event('run-stopped', { iter, wallTime, reason: outcome.reason });
    case 'completed':
      return event('run-completed', { iter, wallTime });
    default: {
      const unknown: never = outcome;
      return unknown;
    }
  }
}

/**
 * The trainer's side of the log, one `train()` call at a time: opens the run (a new one, or the
 * resumed one) with its EventStorage and `run-started` or `resumed`; at the end, waits for what
 * the log's commit thread still writes, records the outcome, and closes what it opened.
 */
export class RunSession {
  #log: LogFile | null = null;
  #ownsLog = false;
  #appender: LogAppender | null = null;
  /** Ids of the metric writers this run runs on the log's commit thread. */
  #projected: ReadonlySet<string> = new Set();
  #resume: ResumePoint | null = null;

  constructor(
    private readonly options: TrainerOptions,
    /** The run's storage goes to `state.storage`, where the loop and the hooks find it. */
    private readonly state: LoopStateRecord,
  ) {}

  /** The log of this trainer, opened on first use (null when training without a log). */
  openLog(): LogFile | null {
    if (this.#log !== null) return this.#log;
    const option = this.options.log;
    if (option === undefined || option === null) return null;
    if (typeof option === 'string') {
      this.#log = LogFile.open(option);
      this.#ownsLog = true;
    } else {
      this.#log = option;
    }
    return this.#log;
  }

  /** The log file, once opened. */
  get log(): LogFile | null {
    return this.#log;
  }

  /** The run's log appender while training with a log. */
  get appender(): LogAppender | null {
    return this.#appender;
  }

  /** See TrainerBase.runsOnCommitThread. */
  runsOnCommitThread(writerId: string): boolean {
    return this.#appender !== null && this.#projected.has(writerId);
  }

  /** The next `open` continues this run from this state (null: a new run). */
  setResumePoint(point: ResumePoint | null): void {
    this.#resume = point;
  }

  /** Opens the run of a `train()` call: its appender, its storage, and its first event. */
  open(start: RunStart): void {
    const state = this.state;
    const log = this.openLog();
    const resume = this.#resume;
    this.#resume = null;
    let appender: LogAppender | null = null;
    if (log !== null) {
      // Writers that can run as projections of the log go to its commit thread, off this one.
      const specs = start.projections();
      this.#projected = new Set(specs.map((s) => s.id));
      const options = { durability: this.options.durability, observer: projectionObserver(specs), fillSnapshotCache: this.options.snapshotCache ?? false };
      appender = resume ? log.appendToRun(resume.runId, options) : log.createRun({ name: this.options.runName ?? 'run' }, options);
    }
    this.#appender = appender;
    const { onEvent, listening } = start;
    if (resume) {
      state.storage = new EventStorage({ sink: appender, state: resume.state, onEvent, listening });
      state.storage.append(event('resumed', { iter: resume.iter, toSeq: resume.toSeq, wallTime: Date.now() / 1000 }));
    } else {
      state.storage = new EventStorage({ sink: appender, startIter: state.startIter, maxLength: this.options.maxLength, onEvent, listening });
      const extra = start.hostInfo();
      state.storage.append(
        event('run-started', {
          name: this.options.runName ?? 'run',
          config: this.options.config ?? null,
          startIter: state.startIter,
          maxIter: state.maxIter,
          historyMaxLength: state.storage.maxLength,
          wallTime: Date.now() / 1000,
          host: { hostname: hostname(), platform: `${process.platform}-${process.arch}`, node: process.version, pid: process.pid, ...extra },
        }),
      );
    }
  }

  /**
   * Ends the run: waits for the log's commit thread, records the outcome (failed with the first
   * failure, else stopped or completed) as the run's last event, and closes the storage, the
   * appender and a log it opened. Returns `failure`, or the first failure found here.
   */
  async close(failure: Failure): Promise<Failure> {
    const state = this.state;
    const appender = this.#appender;
    // Writers on the log's commit thread made their last write before this: wait for it, so
    // that a failure there is the run's recorded outcome rather than found after a "completed".
    if (failure === null && appender !== null) {
      try {
        appender.commit();
        await appender.flush();
        const failed = appender.projectionError();
        if (failed !== null) failure = { e: failed };
      } catch (e) {
        failure = { e };
      }
    }
    const outcome: RunOutcome =
      failure !== null ? { kind: 'failed', error: failure.e } : state.stopReason !== null ? { kind: 'stopped', reason: state.stopReason } : { kind: 'completed' };
    try {
      state.storage.append(outcomeEvent(outcome, state.iter, Date.now() / 1000));
    } catch (e) {
      failure ??= { e };
    }
    // The outcome is the run's last event: a put after train() settles would be in no ledger.
    state.storage.close();
    if (appender !== null) {
      try {
        await appender.close();
      } catch (e) {
        failure ??= { e };
      }
    }
    if (this.#ownsLog) {
      this.#log?.close();
      this.#log = null;
      this.#ownsLog = false;
    }
    return failure;
  }
}
