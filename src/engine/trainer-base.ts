import { hostname } from 'node:os';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { HookBase } from './hook-base.js';
import type { LifecycleEvent } from './lifecycle-event.js';
import { EmptyTrainingRangeError, HookError, TrainerBusyError } from './engine-errors.js';
import { localComm, type Comm } from './comm.js';
import { EventStorage } from '../storage/event-storage.js';
import type { StorageState } from '../storage/storage-state.js';
import { LogFile } from '../log/log-file.js';
import type { Durability, RunWriter } from '../log/run-writer.js';
import type { TrainEvent } from '../events/train-event.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * A hook written as an RxJS pipeline: it receives the lifecycle events and returns an
 * observable whose subscription does the work. If the pipeline errors, the step fails, and if
 * it emits a promise, the loop awaits it before going on.
 *
 * @example
 * ```ts
 * const logEvery100: ReactiveHook = (events$) =>
 *   events$.pipe(ofType('step-completed'), every(100), tap((e) => console.log(e.iter)));
 * ```
 */
export type ReactiveHook = (events$: Observable<LifecycleEvent>) => Observable<unknown>;

/** Removes a registered hook. */
export interface HookHandle {
  remove(): void;
}

export interface TrainerOptions {
  /** The log to record the run in: a LogFile or a path. Without one, metrics live in memory only. */
  readonly log?: LogFile | string | null;
  /** Run name in the log. Default `'run'`. */
  readonly runName?: string;
  /** Anything JSON describing the run (hyper-parameters...), recorded in `run-started`. */
  readonly config?: unknown;
  readonly durability?: Durability;
  /** Samples each metric history keeps. Default 1,000,000. */
  readonly maxLength?: number;
  readonly comm?: Comm;
}

/** A resume point prepared by `resumeOrLoad`: continue run `runId` from `state`. */
export interface ResumePoint {
  readonly runId: number;
  readonly state: StorageState;
  /** Iteration of the checkpoint (the last step whose effects the checkpoint holds). */
  readonly iter: number;
  readonly toSeq: number;
}

/** The trainer's checkpointable state (detectron2's state_dict). */
export interface TrainerState {
  readonly iteration: number;
  readonly hooks: Readonly<Record<string, unknown>>;
  readonly [extra: string]: unknown;
}

type Phase = 'beforeTrain' | 'beforeStep' | 'afterBackward' | 'afterStep' | 'afterTrain';

class ClassEntry {
  constructor(readonly hook: HookBase) {}
}

class ReactiveEntry {
  readonly fn: ReactiveHook;
  #subject: Subject<LifecycleEvent> | null = null;
  #subscription: Subscription | null = null;
  #error: { readonly e: unknown } | null = null;
  #promises: Promise<unknown>[] = [];

  constructor(fn: ReactiveHook) {
    this.fn = fn;
  }

  start(): void {
    this.#error = null;
    this.#subject = new Subject<LifecycleEvent>();
    this.#subscription = this.fn(this.#subject.asObservable()).subscribe({
      next: (v) => {
        if (v instanceof Promise) this.#promises.push(v);
      },
      // RxJS would report this asynchronously; we capture it and rethrow it in the loop.
      error: (e: unknown) => {
        this.#error = { e };
      },
    });
  }

  /** Feeds one event; throws what the pipeline threw; returns a promise if it emitted any. */
  feed(e: LifecycleEvent): void | Promise<unknown> {
    this.#subject?.next(e);
    if (this.#error !== null) throw this.#error.e;
    if (this.#promises.length > 0) {
      const all = Promise.all(this.#promises);
      this.#promises = [];
      return all;
    }
  }

  stop(): void {
    this.#subscription?.unsubscribe();
    this.#subject?.complete();
    this.#subscription = null;
    this.#subject = null;
  }
}

type Entry = ClassEntry | ReactiveEntry;

/**
 * The hooks that act in one phase, in order, each with a prepared call: the loop then makes a
 * plain call per hook, with no type test and no method looked up by the phase's name.
 */
interface PhaseHooks {
  readonly phase: Phase;
  readonly entries: readonly Entry[];
  readonly calls: ReadonlyArray<(event: LifecycleEvent | null) => unknown>;
}

function phaseHooks(phase: Phase, all: readonly Entry[]): PhaseHooks {
  // An empty hook method costs nothing: the hooks that do not override it are left out.
  const entries = all.filter((e) => e instanceof ReactiveEntry || e.hook[phase] !== HookBase.prototype[phase]);
  const calls = entries.map((e): ((event: LifecycleEvent | null) => unknown) => {
    if (e instanceof ReactiveEntry) return (event) => (event === null ? undefined : e.feed(event));
    // Read once, at registration (as is whether the hook acts in this phase at all).
    const hook = e.hook;
    const method = hook[phase];
    return () => method.call(hook);
  });
  return { phase, entries, calls };
}

const PHASES: readonly Phase[] = ['beforeTrain', 'beforeStep', 'afterBackward', 'afterStep', 'afterTrain'];

function isPromise(v: unknown): v is Promise<unknown> {
  return v !== undefined && v !== null && typeof (v as Promise<unknown>).then === 'function';
}

function hookName(entry: Entry): string {
  return entry instanceof ClassEntry ? entry.hook.constructor.name : entry.fn.name || 'reactive hook';
}

/**
 * The training loop with hooks (detectron2's TrainerBase), with the lifecycle as an observable
 * and every metric recorded in an append-only log.
 *
 * ```text
 * train(startIter, maxIter):
 *   run-started → log
 *   beforeTrain hooks
 *   for iter in [startIter, maxIter):
 *     beforeStep hooks        (storage.iter === iter)
 *     runStep()               (subclass; calls afterBackward hooks between backward and update)
 *     afterStep hooks         (storage.iter === iter)
 *     now = clock()           (one read per step: lastStepEnd and the step's wall time)
 *     storage.step(wall(now)) → iter + 1
 *   afterTrain hooks          (always; iter === maxIter after success, === k after a failure at k)
 *   run-completed | run-stopped | run-failed → log
 * ```
 *
 * Hooks (class or reactive) run in registration order. An error thrown by any hook or by
 * runStep fails the step at once: it is recorded in the log (`hook-failed`, `run-failed`),
 * afterTrain still runs, and `train()` rejects with it.
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
  /** The iteration being run. */
  iter = 0;
  startIter = 0;
  maxIter = 0;
  readonly options: TrainerOptions;
  readonly comm: Comm;
  #storage: EventStorage;
  readonly #events = new Subject<LifecycleEvent>();
  /** Every lifecycle event of every `train()` (for observers; hooks should use `register`). */
  readonly events$: Observable<LifecycleEvent> = this.#events.asObservable();
  #entries: Entry[] = [];
  #byPhase!: Readonly<Record<Phase, PhaseHooks>>; // set by #reindex, from the constructor on
  #hasReactive = false;
  #busy = false;
  #stopReason: string | null = null;
  #writer: RunWriter | null = null;
  #log: LogFile | null = null;
  #ownsLog = false;
  #resume: ResumePoint | null = null;
  #lastStepEnd = NaN;
  /** An async reactive hook's rejection on a metric event, raised at the next phase. */
  #deferred: { readonly entry: Entry; readonly error: unknown } | null = null;

  constructor(options: TrainerOptions = {}) {
    this.options = options;
    this.comm = options.comm ?? localComm;
    this.#storage = new EventStorage({ maxLength: options.maxLength });
    this.#reindex();
  }

  /**
   * When the previous step ended (after its afterStep hooks), on the `performance.now()` clock;
   * at the first step of a `train()` call, when training started (and after the loop yields to
   * the event loop, when it resumed). IterationTimer measures a step from here, so the loop
   * reads the clock once per step for everyone.
   *
   * @example
   * ```ts
   * const sinceLastStep = performance.now() - trainer.lastStepEnd;
   * ```
   */
  get lastStepEnd(): number {
    return this.#lastStepEnd;
  }

  /** The EventStorage of the current (or last) `train()` call. */
  get storage(): EventStorage {
    return this.#storage;
  }

  /** The run's log writer while training with a log. */
  get runWriter(): RunWriter | null {
    return this.#writer;
  }

  /** The log file, once opened. */
  get log(): LogFile | null {
    return this.#log;
  }

  /** @internal Prepared by resume logic: the next train() continues this run from this state. */
  setResumePoint(point: ResumePoint | null): void {
    this.#resume = point;
  }

  /**
   * Registers hooks (class hooks or reactive hooks) after those already registered; null and
   * undefined entries are dropped. The handle removes them again.
   *
   * @example
   * ```ts
   * const handle = trainer.register(new IterationTimer(), (e$) => e$.pipe(ofType('step-completed'), every(10), tap(log)));
   * handle.remove();
   * ```
   */
  register(...hooks: ReadonlyArray<HookBase | ReactiveHook | null | undefined>): HookHandle {
    const added: Entry[] = [];
    for (const h of hooks) {
      if (h === null || h === undefined) continue;
      if (h instanceof HookBase) {
        h.attach(this);
        added.push(new ClassEntry(h));
      } else if (typeof h === 'function') {
        added.push(new ReactiveEntry(h));
      } else {
        throw new InvalidArgumentError(`register() takes HookBase instances or functions (reactive hooks), got ${typeof h}`);
      }
    }
    this.#entries = [...this.#entries, ...added];
    this.#reindex();
    if (this.#busy) for (const e of added) if (e instanceof ReactiveEntry) e.start();
    return {
      remove: () => {
        this.#entries = this.#entries.filter((e) => !added.includes(e));
        for (const e of added) {
          if (e instanceof ReactiveEntry) e.stop();
          else e.hook.attach(null);
        }
        this.#reindex();
      },
    };
  }

  /** Registered class hooks, in order. */
  get hooks(): readonly HookBase[] {
    return this.#entries.filter((e): e is ClassEntry => e instanceof ClassEntry).map((e) => e.hook);
  }

  #reindex(): void {
    const byPhase = {} as Record<Phase, PhaseHooks>;
    for (const phase of PHASES) byPhase[phase] = phaseHooks(phase, this.#entries);
    this.#byPhase = byPhase;
    this.#hasReactive = this.#entries.some((e) => e instanceof ReactiveEntry);
  }

  /**
   * Ends training cleanly after the current iteration (early stopping): afterTrain runs and the
   * run is recorded as stopped with `reason`.
   */
  requestStop(reason: string): void {
    this.#stopReason = reason;
  }

  /** Emits a lifecycle event to observers of events$ (reactive hooks get theirs in phases). */
  #emit(e: LifecycleEvent): void {
    if (this.#events.observed) this.#events.next(e);
  }

  #fail(entry: Entry, phase: string, error: unknown): never {
    if (error instanceof HookError) throw error;
    const name = hookName(entry);
    const err = new HookError(name, phase, this.iter, error);
    this.#storage.append({
      type: 'hook-failed',
      v: 1,
      data: { hook: name, phase, iter: this.iter, message: err.message, stack: (error as Error)?.stack },
    });
    throw err;
  }

  /**
   * Runs one phase over its hooks in order. Returns a promise only if some hook returned one, so
   * synchronous hooks never pay for a promise.
   */
  #run(hooks: PhaseHooks, event: LifecycleEvent | null): void | Promise<void> {
    const calls = hooks.calls;
    // Nothing to run or to raise: the common case for afterBackward, kept cheap.
    if (calls.length === 0 && event === null && this.#deferred === null) return;
    const deferred = this.#deferred;
    if (deferred !== null) {
      this.#deferred = null;
      this.#fail(deferred.entry, 'metric-recorded', deferred.error);
    }
    if (event !== null) this.#emit(event);
    for (let i = 0; i < calls.length; i++) {
      let r: unknown;
      try {
        r = calls[i]!(event);
      } catch (e) {
        this.#fail(hooks.entries[i]!, hooks.phase, e);
      }
      if (isPromise(r)) return this.#continueAsync(hooks, event, i, r);
    }
  }

  async #continueAsync(hooks: PhaseHooks, event: LifecycleEvent | null, at: number, pending: Promise<unknown>): Promise<void> {
    try {
      await pending;
    } catch (e) {
      this.#fail(hooks.entries[at]!, hooks.phase, e);
    }
    for (let i = at + 1; i < hooks.calls.length; i++) {
      try {
        await hooks.calls[i]!(event);
      } catch (e) {
        this.#fail(hooks.entries[i]!, hooks.phase, e);
      }
    }
  }

  /** Runs the afterBackward hooks (called by runStep between backward and the optimizer). */
  afterBackward(event: LifecycleEvent | null): void | Promise<void> {
    return this.#run(this.#byPhase.afterBackward, event);
  }

  /** One iteration's work. Subclasses implement it. */
  abstract runStep(): void | Promise<void>;

  /** The log of this trainer, opened on first use (null when training without a log). */
  protected openLog(): LogFile | null {
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

  /** Metadata recorded with the run (subclasses add the backend, etc.). */
  protected hostInfo(): { readonly tfjs?: string; readonly backend?: string } {
    return {};
  }

  #startRun(startIter: number, maxIter: number): void {
    this.openLog();
    const resume = this.#resume;
    this.#resume = null;
    const log = this.#log;
    let writer: RunWriter | null = null;
    if (log !== null) {
      // Writers that can run as projections of the log go to its writer thread, off this one.
      const options = { durability: this.options.durability, projections: this.hooks.flatMap((h) => h.logProjections()) };
      writer = resume ? log.appendToRun(resume.runId, options) : log.createRun({ name: this.options.runName ?? 'run' }, options);
    }
    this.#writer = writer;
    // Metric events exist only while a reactive hook or an observer of events$ can get them.
    const listening = (): boolean => this.#hasReactive || this.#events.observed;
    const onEvent = (e: TrainEvent): void => {
      if (e.type === 'scalar' && listening()) {
        this.#phaseEvent({ type: 'metric-recorded', iter: e.data.iter, name: e.data.name, value: e.data.value });
      }
    };
    if (resume) {
      this.#storage = new EventStorage({ sink: writer, state: resume.state, onEvent, listening });
      this.#storage.append({ type: 'resumed', v: 1, data: { iter: resume.iter, toSeq: resume.toSeq, wallTime: Date.now() / 1000 } });
    } else {
      this.#storage = new EventStorage({ sink: writer, startIter, maxLength: this.options.maxLength, onEvent, listening });
      const extra = this.hostInfo();
      this.#storage.append({
        type: 'run-started',
        v: 1,
        data: {
          name: this.options.runName ?? 'run',
          config: this.options.config ?? null,
          startIter,
          maxIter,
          historyMaxLength: this.#storage.maxLength,
          wallTime: Date.now() / 1000,
          host: { hostname: hostname(), platform: `${process.platform}-${process.arch}`, node: process.version, pid: process.pid, ...extra },
        },
      });
    }
  }

  /** Delivers a metric event to reactive hooks outside the phase loop (from inside a put). */
  #phaseEvent(e: LifecycleEvent): void {
    this.#emit(e);
    for (const entry of this.#entries) {
      if (!(entry instanceof ReactiveEntry)) continue;
      try {
        const r = entry.feed(e);
        // A put cannot await; a rejection is kept and fails the run at the next phase that runs
        // after it settles (a synchronous loop lets promises settle when it yields, every 100 ms).
        if (isPromise(r)) r.catch((err: unknown) => (this.#deferred ??= { entry, error: err }));
      } catch (err) {
        this.#fail(entry, 'metric-recorded', err);
      }
    }
  }

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
    if (this.#busy) throw new TrainerBusyError();
    for (const [name, v] of [['startIter', startIter], ['maxIter', maxIter]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`train(): ${name} must be a non-negative integer, got ${String(v)}`);
    }
    if (startIter >= maxIter) throw new EmptyTrainingRangeError(startIter, maxIter);
    this.#busy = true;
    this.#stopReason = null;
    this.#deferred = null;
    this.iter = this.startIter = startIter;
    this.maxIter = maxIter;
    let failure: { readonly e: unknown } | null = null;
    try {
      this.#startRun(startIter, maxIter);
      for (const e of this.#entries) if (e instanceof ReactiveEntry) e.start();
      const r0 = this.#run(this.#byPhase.beforeTrain, { type: 'train-started', iter: startIter, startIter, maxIter });
      if (r0) await r0;
      let lastYield = performance.now();
      // Wall time = the monotonic clock + this offset, re-anchored to Date.now() at every yield:
      // the loop reads one clock per step (a read costs ~0.1-0.2 µs here, several per step add up).
      let wallOffset = Date.now() - lastYield;
      this.#lastStepEnd = lastYield;
      const hasStepEvents = (): boolean => this.#hasReactive || this.#events.observed;
      for (; this.iter < maxIter; this.iter++) {
        const r1 = this.#run(this.#byPhase.beforeStep, hasStepEvents() ? { type: 'step-started', iter: this.iter } : null);
        if (r1) await r1;
        const r2 = this.runStep();
        if (r2) await r2;
        const r3 = this.#run(this.#byPhase.afterStep, hasStepEvents() ? { type: 'step-completed', iter: this.iter } : null);
        if (r3) await r3;
        const now = performance.now();
        this.#lastStepEnd = now;
        // This keeps the invariant: in every hook of iteration k, storage.iter === trainer.iter === k.
        this.#storage.step((now + wallOffset) / 1000);
        if (this.#stopReason !== null) {
          this.iter++;
          break;
        }
        // A fully synchronous loop would starve timers, signals and I/O for the whole run.
        if (now - lastYield > 100) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = this.#lastStepEnd = performance.now();
          wallOffset = Date.now() - lastYield;
        }
      }
      // Let pending async hook work settle, so a late rejection fails this run, not the next.
      if (this.#hasReactive) await new Promise((resolve) => setImmediate(resolve));
      // (Set from a promise callback: control-flow analysis cannot see that.)
      const deferred = this.#deferred as { readonly entry: Entry; readonly error: unknown } | null;
      if (deferred !== null) {
        this.#deferred = null;
        this.#fail(deferred.entry, 'metric-recorded', deferred.error);
      }
    } catch (e) {
      failure = { e };
    }
    const outcome: LifecycleEvent =
      failure !== null
        ? { type: 'train-failed', iter: this.iter, error: failure.e }
        : this.#stopReason !== null
          ? { type: 'train-stopped', iter: this.iter, reason: this.#stopReason }
          : { type: 'train-completed', iter: this.iter };
    failure = await this.#afterTrain(outcome, failure);
    this.#busy = false;
    if (failure !== null) throw failure.e;
  }

  /** afterTrain for every hook (even when one throws), the end event, closing the log. */
  async #afterTrain(outcome: LifecycleEvent, failure: { readonly e: unknown } | null): Promise<{ readonly e: unknown } | null> {
    this.#emit(outcome);
    const { entries, calls } = this.#byPhase.afterTrain;
    for (let i = 0; i < calls.length; i++) {
      try {
        await calls[i]!(outcome);
      } catch (e) {
        try {
          this.#fail(entries[i]!, 'afterTrain', e);
        } catch (wrapped) {
          failure ??= { e: wrapped };
        }
      }
    }
    for (const e of this.#entries) if (e instanceof ReactiveEntry) e.stop();
    // Writers on the log's writer thread made their last write above: wait for it, so that a
    // failure there is the run's recorded outcome rather than found after a "completed".
    if (failure === null && this.#writer !== null) {
      try {
        this.#writer.commit();
        await this.#writer.flush();
        const failed = this.#writer.projectionError();
        if (failed !== null) failure = { e: failed };
      } catch (e) {
        failure = { e };
      }
    }
    const wallTime = Date.now() / 1000;
    try {
      if (failure !== null) {
        const err = failure.e as Error;
        this.#storage.append({ type: 'run-failed', v: 1, data: { iter: this.iter, wallTime, message: err?.message ?? String(err), stack: err?.stack } });
      } else if (this.#stopReason !== null) {
        this.#storage.append({ type: 'run-stopped', v: 1, data: { iter: this.iter, wallTime, reason: this.#stopReason } });
      } else {
        this.#storage.append({ type: 'run-completed', v: 1, data: { iter: this.iter, wallTime } });
      }
    } catch (e) {
      failure ??= { e };
    }
    // The outcome is the run's last event: a put after train() settles would be in no ledger.
    this.#storage.close();
    if (this.#writer !== null) {
      try {
        await this.#writer.close();
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

  /**
   * The state to checkpoint: iteration and the state of every hook that has one, keyed by
   * `stateKey` (the class name; a second hook of the same class gets `Name#2`, and so on).
   *
   * @example
   * ```ts
   * const state = await trainer.stateDict();
   * ```
   */
  async stateDict(): Promise<TrainerState> {
    const hooks: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    for (const h of this.hooks) {
      const sd = h.stateDict();
      const base = h.stateKey;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      if (sd === undefined) continue;
      hooks[n === 1 ? base : `${base}#${n}`] = sd;
    }
    return { iteration: this.iter, hooks };
  }

  /**
   * Restores what `stateDict` returned. Unknown hook keys produce a warning, as in detectron2.
   *
   * @example
   * ```ts
   * await trainer.loadStateDict(saved);
   * ```
   */
  async loadStateDict(state: TrainerState): Promise<void> {
    this.iter = state.iteration;
    const seen = new Map<string, number>();
    const used = new Set<string>();
    for (const h of this.hooks) {
      const base = h.stateKey;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      const key = n === 1 ? base : `${base}#${n}`;
      if (key in state.hooks) {
        h.loadStateDict(state.hooks[key]);
        used.add(key);
      }
    }
    for (const key of Object.keys(state.hooks)) {
      if (!used.has(key)) process.emitWarning(`cannot find a hook for state key ${JSON.stringify(key)}; its state is ignored`, { code: 'TRAINLEDGER_UNKNOWN_HOOK_STATE' });
    }
  }
}
