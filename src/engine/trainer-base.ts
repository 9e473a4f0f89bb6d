import type { Observable } from 'rxjs';
import type { HookBase } from './hook-base.js';
import type { LifecycleEvent } from './lifecycle-event.js';
import { EmptyTrainingRangeError, TrainerBusyError } from './errors.js';
import { localComm, type Comm } from './comm.js';
import { LoopStateRecord, type LoopState } from './loop-state.js';
import { LifecycleBroadcast, type ReactiveHook } from './reactive-hook.js';
import { HookRegistry, type HookHandle, type HookRegistration } from './hook-registry.js';
import { checkTimeout } from './hook-timeout.js';
import { RunSession, type Failure, type ResumePoint, type RunStart } from './run-session.js';
import { StepClock } from './step-clock.js';
import { hookStates, loadHookStates, type TrainerStateDict } from './state-dict.js';
import { EventStorage } from '../storage/event-storage.js';
import type { LogFile } from '../log/log-file.js';
import type { LogAppender } from '../log/log-appender.js';
import type { Durability } from '../log/appender-options.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

export interface TrainerOptions {
  /** The log to record the run in: a LogFile or a path. Without one, metrics live in memory only. */
  readonly log?: LogFile | string | null;
  /** Run name in the log. Default `'run'`. */
  readonly runName?: string;
  /** Anything JSON describing the run (hyper-parameters...), recorded in `run-started`. */
  readonly config?: unknown;
  readonly durability?: Durability;
  /**
   * Fill the log's snapshot cache as the run goes (on the log's commit thread), so the first
   * `trainledger show` or `replayRun` of a long run is fast. Costs that thread a fold of the run
   * and one more copy of the metric histories in memory. Default false.
   */
  readonly snapshotCache?: boolean;
  /** Samples each metric history keeps. Default 1,000,000. */
  readonly maxLength?: number;
  readonly comm?: Comm;
  /**
   * How long (ms) a hook's promise may take before its step fails with HookTimeoutError: one
   * returned by a class hook's method, emitted by a reactive hook, or a reactive pipeline
   * completing after training. A registration can set its own (`{ hook, hookTimeoutMs }`).
   * Default: none, and a hook that never settles hangs `train()`.
   */
  readonly hookTimeoutMs?: number;
}

/**
 * The training loop with hooks (detectron2's TrainerBase), with the lifecycle as an observable
 * and every metric recorded in an append-only log.
 *
 * ```text
 * train(startIter, maxIter):
 *   run-started (or resumed) → log
 *   beforeTrain hooks
 *   for iter in [startIter, maxIter):
 *     beforeStep hooks        (storage.iter === iter)
 *     runStep()               (subclass; calls afterBackward hooks between backward and update)
 *     afterStep hooks         (storage.iter === iter)
 *     storage.step(wallTime)  → iter + 1   (one clock read per step, also state.lastStepEnd)
 *   afterTrain hooks          (always; iter === maxIter after success, === k after a failure at k)
 *   run-completed | run-stopped | run-failed → log
 * ```
 *
 * Hooks (class or reactive) run in registration order and find the run in `trainer.state`. An
 * error thrown by any hook or by runStep, a rejected hook promise, or one past `hookTimeoutMs`,
 * fails the step at once: it is recorded in the log (`hook-failed`, `run-failed`), afterTrain
 * still runs, and `train()` rejects with it. No error of a hook is dropped: what a reactive
 * pipeline raises on its own time is raised at the loop's next settle point (after each phase),
 * at the latest once its input completed after afterTrain; the storage is then closed.
 *
 * @example
 * ```ts
 * class MyTrainer extends TrainerBase {
 *   runStep() { this.storage.putScalar('x', this.iter); }
 * }
 * await new MyTrainer().train(0, 10);
 * ```
 */
export abstract class TrainerBase {
  readonly options: TrainerOptions;
  readonly comm: Comm;
  /** The trainer's writable side of `state`, for subclasses. */
  protected readonly loopState: LoopStateRecord;
  readonly #broadcast = new LifecycleBroadcast();
  /** Every lifecycle event of every `train()` (for observers; hooks should use `register`). */
  readonly events$: Observable<LifecycleEvent> = this.#broadcast.events$;
  readonly #hooks: HookRegistry;
  readonly #session: RunSession;
  #busy = false;

  constructor(options: TrainerOptions = {}) {
    if (options.hookTimeoutMs !== undefined) checkTimeout(options.hookTimeoutMs, 'hookTimeoutMs');
    const runName = options.runName;
    // The log stores it as UTF-8: a lone surrogate would come back as U+FFFD (another name).
    if (runName !== undefined && (typeof runName !== 'string' || !(runName as string & { isWellFormed(): boolean }).isWellFormed())) {
      throw new InvalidArgumentError(`runName must be a well-formed Unicode string (no lone surrogate), got ${JSON.stringify(runName)}`);
    }
    this.options = options;
    this.comm = options.comm ?? localComm;
    this.loopState = new LoopStateRecord(new EventStorage({ maxLength: options.maxLength }));
    this.#hooks = new HookRegistry(this, this.loopState, this.#broadcast, options.hookTimeoutMs);
    this.#session = new RunSession(options, this.loopState);
  }

  /** Where a hook finds the run in progress: iteration, range, storage, timing, gradients. */
  get state(): LoopState {
    return this.loopState;
  }

  /** The iteration being run (`state.iter`). */
  get iter(): number {
    return this.loopState.iter;
  }

  /** `state.startIter`. */
  get startIter(): number {
    return this.loopState.startIter;
  }

  /** `state.maxIter`. */
  get maxIter(): number {
    return this.loopState.maxIter;
  }

  /** The EventStorage of the current (or last) `train()` call (`state.storage`). */
  get storage(): EventStorage {
    return this.loopState.storage;
  }

  /**
   * When the previous step ended, on the `performance.now()` clock (`state.lastStepEnd`).
   *
   * @example
   * ```ts
   * const sinceLastStep = performance.now() - trainer.lastStepEnd;
   * ```
   */
  get lastStepEnd(): number {
    return this.loopState.lastStepEnd;
  }

  /** The run's log appender while training with a log. */
  get appender(): LogAppender | null {
    return this.#session.appender;
  }

  /**
   * Whether the metric writer with this id runs on the log's commit thread in the current run
   * (a hook offered its spec in `logProjections()`), rather than on this thread.
   *
   * @example
   * ```ts
   * trainer.runsOnCommitThread('json:out/metrics.json'); // true while it runs there
   * ```
   */
  runsOnCommitThread(writerId: string): boolean {
    return this.#session.runsOnCommitThread(writerId);
  }

  /** The log file, once opened. */
  get log(): LogFile | null {
    return this.#session.log;
  }

  /** @internal Prepared by resume logic: the next train() continues this run from this state. */
  setResumePoint(point: ResumePoint | null): void {
    this.#session.setResumePoint(point);
  }

  /** The log of this trainer, opened on first use (null when training without a log). */
  protected openLog(): LogFile | null {
    return this.#session.openLog();
  }

  /** Metadata recorded with the run (subclasses add the backend, etc.). */
  protected hostInfo(): { readonly tfjs?: string; readonly backend?: string } {
    return {};
  }

  /**
   * Registers hooks (class hooks or reactive hooks) after those already registered; null and
   * undefined entries are dropped. A hook can come with options of its own, as
   * `{ hook, hookTimeoutMs }`. The handle removes them again.
   *
   * @example
   * ```ts
   * const handle = trainer.register(new IterationTimer(), (e$) => e$.pipe(ofType('step-completed'), every(10), tap(log)));
   * trainer.register({ hook: new PeriodicCheckpointer('ckpt', 1000), hookTimeoutMs: 600_000 });
   * handle.remove();
   * ```
   */
  register(...hooks: ReadonlyArray<HookBase | ReactiveHook | HookRegistration | null | undefined>): HookHandle {
    return this.#hooks.register(hooks, this.#busy);
  }

  /** Registered class hooks, in order. */
  get hooks(): readonly HookBase[] {
    return this.#hooks.hooks;
  }

  /**
   * Ends training cleanly after the current iteration (early stopping): afterTrain runs and the
   * run is recorded as stopped with `reason`.
   */
  requestStop(reason: string): void {
    this.loopState.stopReason = reason;
  }

  /** Runs the afterBackward hooks (called by runStep between backward and the optimizer). */
  afterBackward(event: LifecycleEvent | null): void | Promise<void> {
    return this.#hooks.run('afterBackward', event);
  }

  /** One iteration's work. Subclasses implement it. */
  abstract runStep(): void | Promise<void>;

  /**
   * Runs the loop from `startIter` to `maxIter` (exclusive). Resolves when training completed or
   * stopped; rejects with the error that failed it, after afterTrain ran and the failure was
   * logged.
   *
   * @example
   * ```ts
   * await trainer.train(0, 1000);
   * ```
   */
  async train(startIter: number, maxIter: number): Promise<void> {
    this.#begin(startIter, maxIter);
    const s = this.loopState;
    const hooks = this.#hooks;
    let failure: Failure = null;
    try {
      this.#session.open(this.#runStart());
      // A phase returns a promise only when a hook did: synchronous steps are never awaited.
      let r = this.#settled(hooks.beforeTrain({ type: 'train-started', iter: startIter, startIter, maxIter }));
      if (r) await r;
      const clock = new StepClock(s);
      for (; s.iter < maxIter; s.iter++) {
        r = this.#settled(hooks.run('beforeStep', hooks.listening() ? { type: 'step-started', iter: s.iter } : null));
        if (r) await r;
        r = this.#settled(this.runStep());
        if (r) await r;
        r = this.#settled(hooks.run('afterStep', hooks.listening() ? { type: 'step-completed', iter: s.iter } : null));
        if (r) await r;
        // Counted only now: in every hook of iteration k, storage.iter === trainer.iter === k.
        s.storage.step(clock.stepEnded());
        if (s.stopReason !== null) {
          s.iter++;
          break;
        }
        if (clock.dueToYield()) await clock.yield();
      }
      // Let async hook work that is already due land before the outcome is decided.
      if (hooks.hasReactive) await hooks.settleDue();
    } catch (e) {
      failure = { e };
    }
    failure = await hooks.afterTrain(this.#outcome(failure), failure);
    failure = await this.#session.close(failure);
    this.#busy = false;
    if (failure !== null) throw failure.e;
  }

  /** Checks the range and takes the trainer for this `train()` call. */
  #begin(startIter: number, maxIter: number): void {
    if (this.#busy) throw new TrainerBusyError();
    for (const [name, v] of [['startIter', startIter], ['maxIter', maxIter]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`train(): ${name} must be a non-negative integer, got ${String(v)}`);
    }
    if (startIter >= maxIter) throw new EmptyTrainingRangeError(startIter, maxIter);
    this.#busy = true;
    const s = this.loopState;
    s.stopReason = null;
    s.iter = s.startIter = startIter;
    s.maxIter = maxIter;
    this.#hooks.reset();
  }

  /** What the run's session asks of the trainer. */
  #runStart(): RunStart {
    const hooks = this.#hooks;
    return { projections: () => this.hooks.flatMap((h) => h.logProjections()), hostInfo: () => this.hostInfo(), onEvent: hooks.onStorageEvent, listening: hooks.listening };
  }

  /** `r`, then, while reactive hooks are registered, a settle point (see HookRegistry.settle). */
  #settled(r: void | Promise<void>): void | Promise<void> {
    if (!this.#hooks.hasReactive) return r;
    return r ? this.#settleAfter(r) : this.#hooks.settle();
  }

  async #settleAfter(r: Promise<void>): Promise<void> {
    await r;
    await this.#hooks.settle();
  }

  /** The lifecycle event that tells the afterTrain hooks how training ended. */
  #outcome(failure: Failure): LifecycleEvent {
    const { iter, stopReason } = this.loopState;
    if (failure !== null) return { type: 'train-failed', iter, error: failure.e };
    return stopReason !== null ? { type: 'train-stopped', iter, reason: stopReason } : { type: 'train-completed', iter };
  }

  /**
   * The state to checkpoint: the iteration and the state of every hook that has one, keyed by
   * `stateKey` (the class name; a second hook of the same class gets `Name#2`, and so on).
   *
   * @example
   * ```ts
   * const state = await trainer.stateDict();
   * ```
   */
  async stateDict(): Promise<TrainerStateDict> {
    return { iteration: this.loopState.iter, hooks: hookStates(this.hooks) };
  }

  /**
   * Restores what `stateDict` returned. Unknown hook keys produce a warning, as in detectron2.
   *
   * @example
   * ```ts
   * await trainer.loadStateDict(saved);
   * ```
   */
  async loadStateDict(state: TrainerStateDict): Promise<void> {
    this.loopState.iter = state.iteration;
    loadHookStates(this.hooks, state.hooks);
  }
}
