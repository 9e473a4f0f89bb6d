import { hostname } from 'node:os';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { HookBase } from './hook-base.js';
import type { LifecycleEvent } from './lifecycle-event.js';
import { EmptyTrainingRangeError, HookError, HookTimeoutError, TrainerBusyError } from './errors.js';
import { localComm, type Comm } from './comm.js';
import { EventStorage } from '../storage/event-storage.js';
import type { StorageState } from '../storage/storage-state.js';
import { LogFile } from '../log/log-file.js';
import type { Durability, LogAppender } from '../log/log-appender.js';
import { projectionObserver } from '../projections/log-projections.js';
import type { TrainEvent } from '../events/train-event.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * A hook written as an RxJS pipeline: it receives the lifecycle events and returns an
 * observable whose subscription does the work. If the pipeline errors, the step fails, and if
 * it emits a promise, the loop awaits it before going on (for a `metric-recorded` event, before
 * the next phase). The failure names the event the pipeline was processing: the one it was fed,
 * for an error raised or a promise emitted while it was fed; else (work of a mergeMap,
 * concatMap, delay...) the last event it was fed when the error arrived. The loop gives such
 * work one microtask turn after each phase, so a rejection due at once names its own step.
 * When training ends the pipeline's input completes, and `train()` waits for the pipeline to
 * complete: a pipeline that never completes then is a hook that never settles (see
 * `hookTimeoutMs`).
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
  /**
   * How long (ms) a hook's promise may take before its step fails with HookTimeoutError: one
   * returned by a class hook's method, emitted by a reactive hook, or a reactive pipeline
   * completing after training. A registration can set its own (`{ hook, hookTimeoutMs }`).
   * Default: none, and a hook that never settles hangs `train()`.
   */
  readonly hookTimeoutMs?: number;
}

/** A hook with options of its own, for `register`. */
export interface HookRegistration {
  readonly hook: HookBase | ReactiveHook;
  /** Overrides TrainerOptions.hookTimeoutMs for this hook; null: no limit for it. */
  readonly hookTimeoutMs?: number | null;
}

/** Largest delay a Node timer keeps (a longer one fires after 1 ms). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

function checkTimeout(ms: unknown, what: string): void {
  if (typeof ms !== 'number' || !(ms > 0 && ms <= MAX_TIMEOUT_MS)) {
    throw new InvalidArgumentError(`${what} must be a number of milliseconds in (0, ${MAX_TIMEOUT_MS}], got ${typeof ms === 'string' ? JSON.stringify(ms) : String(ms)}`);
  }
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
  constructor(
    readonly hook: HookBase,
    /** undefined: the trainer's hookTimeoutMs; null: none. */
    readonly timeoutMs: number | null | undefined,
  ) {}
}

/** What a reactive pipeline does outside the loop's call to it, handed to the trainer. */
interface ReactiveSink {
  /** It errored between feeds, while `event` was the last it had been fed. */
  failed(entry: ReactiveEntry, event: LifecycleEvent, error: unknown): void;
  /** It emitted a promise the loop must await, for `event`. */
  track(entry: ReactiveEntry, event: LifecycleEvent, promise: Promise<unknown>): void;
}

class ReactiveEntry {
  readonly fn: ReactiveHook;
  readonly timeoutMs: number | null | undefined;
  #subject: Subject<LifecycleEvent> | null = null;
  #subscription: Subscription | null = null;
  #sink: ReactiveSink | null = null;
  /** The event being fed: what an error or promise raised synchronously belongs to. */
  #feeding: LifecycleEvent | null = null;
  /** The last event fed: what an error arriving between feeds is attributed to. */
  #lastFed: LifecycleEvent | null = null;
  #error: { readonly e: unknown } | null = null;
  #promises: Promise<unknown>[] = [];
  #done: Promise<void> = Promise.resolve();
  #settle: () => void = () => {};

  constructor(fn: ReactiveHook, timeoutMs: number | null | undefined) {
    this.fn = fn;
    this.timeoutMs = timeoutMs;
  }

  /** Subscribes the pipeline; what it does while subscribing belongs to `first` (train-started). */
  start(sink: ReactiveSink, first: LifecycleEvent): void {
    this.#sink = sink;
    this.#error = null;
    this.#promises = [];
    this.#lastFed = null;
    this.#subject = new Subject<LifecycleEvent>();
    this.#done = new Promise<void>((resolve) => (this.#settle = resolve));
    this.#feeding = first;
    try {
      this.#subscription = this.fn(this.#subject.asObservable()).subscribe({
        next: (v) => {
          if (!isPromise(v)) return;
          if (this.#feeding !== null) this.#promises.push(v);
          else this.#sink?.track(this, this.#lastFed ?? first, v);
        },
        // RxJS would report this asynchronously; we capture it and raise it in the loop.
        error: (e: unknown) => {
          this.#settle();
          if (this.#feeding !== null) this.#error ??= { e };
          else this.#sink?.failed(this, this.#lastFed ?? first, e);
        },
        complete: () => this.#settle(),
      });
    } finally {
      this.#feeding = null;
    }
    this.#raise();
  }

  /** Feeds one event; throws what the pipeline threw; returns a promise if it emitted any. */
  feed(e: LifecycleEvent): void | Promise<unknown> {
    const subject = this.#subject;
    if (subject === null) return;
    this.#feeding = e;
    try {
      subject.next(e);
    } finally {
      this.#feeding = null;
      this.#lastFed = e;
    }
    this.#raise();
    if (this.#promises.length > 0) {
      const all = Promise.all(this.#promises);
      this.#promises = [];
      return all;
    }
  }

  #raise(): void {
    const error = this.#error;
    if (error !== null) {
      this.#error = null;
      throw error.e;
    }
  }

  /**
   * Completes the pipeline's input; resolves once the pipeline completed or errored (an error
   * goes to the sink), so work it still had in flight (a mergeMap's promises) is waited for.
   */
  complete(): Promise<void> {
    this.#subject?.complete();
    return this.#done;
  }

  stop(): void {
    this.#subscription?.unsubscribe();
    this.#subject?.complete();
    this.#settle();
    this.#subscription = null;
    this.#subject = null;
    this.#sink = null;
    this.#lastFed = null;
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

/** The phase a lifecycle event is delivered in (a metric event: whenever it is put). */
function phaseOf(e: LifecycleEvent): string {
  switch (e.type) {
    case 'train-started':
      return 'beforeTrain';
    case 'step-started':
      return 'beforeStep';
    case 'backward-completed':
      return 'afterBackward';
    case 'step-completed':
      return 'afterStep';
    case 'metric-recorded':
      return 'metric-recorded';
    default:
      return 'afterTrain';
  }
}

/** A hook's promise outlived its hookTimeoutMs (turned into a HookTimeoutError by #fail). */
class TimedOut {
  constructor(readonly ms: number) {}
}

/** A reactive pipeline's failure outside the loop's call to it, with the event it belongs to. */
interface AsyncFailure {
  readonly entry: ReactiveEntry;
  readonly event: LifecycleEvent;
  readonly error: unknown;
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
 * runStep, a rejected hook promise, or one past `hookTimeoutMs`, fails the step at once: it is
 * recorded in the log (`hook-failed`, `run-failed`), afterTrain still runs, and `train()`
 * rejects with it. No error of a hook is dropped: what a reactive pipeline raises on its own
 * time is raised at the loop's next settle point (after each phase), at the latest once its
 * input completed after afterTrain; the storage is then closed.
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
  #writer: LogAppender | null = null;
  /** Ids of the metric writers this run runs on the log's commit thread. */
  #projected: ReadonlySet<string> = new Set();
  #log: LogFile | null = null;
  #ownsLog = false;
  #resume: ResumePoint | null = null;
  #lastStepEnd = NaN;
  /** A reactive pipeline's failure outside the loop's call to it: raised at the next settle point. */
  #asyncFailure: AsyncFailure | null = null;
  /** Promises of reactive hooks the loop has yet to await (they never reject: see track). */
  #pending: Promise<void>[] | null = null;
  readonly #hookTimeoutMs: number | undefined;
  readonly #sink: ReactiveSink = {
    failed: (entry, event, error) => {
      this.#asyncFailure ??= { entry, event, error };
    },
    track: (entry, event, promise) => {
      const settled = this.#timed(promise, entry).then(
        () => undefined,
        (error: unknown) => {
          this.#asyncFailure ??= { entry, event, error };
        },
      );
      (this.#pending ??= []).push(settled);
    },
  };

  constructor(options: TrainerOptions = {}) {
    if (options.hookTimeoutMs !== undefined) checkTimeout(options.hookTimeoutMs, 'hookTimeoutMs');
    const runName = options.runName;
    // The log stores it as UTF-8: a lone surrogate would come back as U+FFFD (another name).
    if (runName !== undefined && (typeof runName !== 'string' || !(runName as string & { isWellFormed(): boolean }).isWellFormed())) {
      throw new InvalidArgumentError(`runName must be a well-formed Unicode string (no lone surrogate), got ${JSON.stringify(runName)}`);
    }
    this.#hookTimeoutMs = options.hookTimeoutMs;
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
  get appender(): LogAppender | null {
    return this.#writer;
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
    return this.#writer !== null && this.#projected.has(writerId);
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
    const added: Entry[] = [];
    for (const item of hooks) {
      if (item === null || item === undefined) continue;
      let h: unknown = item;
      let timeoutMs: number | null | undefined;
      if (typeof item === 'object' && !(item instanceof HookBase)) {
        h = item.hook;
        timeoutMs = item.hookTimeoutMs;
        if (timeoutMs !== undefined && timeoutMs !== null) checkTimeout(timeoutMs, 'register(): hookTimeoutMs');
      }
      if (h instanceof HookBase) {
        h.attach(this);
        added.push(new ClassEntry(h, timeoutMs));
      } else if (typeof h === 'function') {
        added.push(new ReactiveEntry(h as ReactiveHook, timeoutMs));
      } else {
        throw new InvalidArgumentError(`register() takes HookBase instances, functions (reactive hooks) or { hook, hookTimeoutMs }, got ${h === null ? 'null' : typeof h}`);
      }
    }
    this.#entries = [...this.#entries, ...added];
    this.#reindex();
    if (this.#busy) {
      for (const e of added) if (e instanceof ReactiveEntry) e.start(this.#sink, { type: 'train-started', iter: this.iter, startIter: this.startIter, maxIter: this.maxIter });
    }
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

  /**
   * Records a hook's failure (`hook-failed`) and throws it as a HookError. A reactive hook's
   * failure is named after the event it belongs to (`event`), whose step may be over.
   */
  #fail(entry: Entry, phase: string, error: unknown, event: LifecycleEvent | null = null): never {
    if (error instanceof HookError) throw error;
    const name = hookName(entry);
    const reactive = entry instanceof ReactiveEntry && event !== null;
    const at = reactive ? phaseOf(event) : phase;
    const iter = reactive ? event.iter : this.iter;
    const type = reactive ? event.type : null;
    const err = error instanceof TimedOut ? new HookTimeoutError(name, at, iter, error.ms, type) : new HookError(name, at, iter, error, { event: type });
    this.#storage.append({
      type: 'hook-failed',
      v: 1,
      data: { hook: name, phase: at, iter, message: err.message, stack: (error instanceof TimedOut ? err : (error as Error))?.stack },
    });
    throw err;
  }

  /**
   * `p`, or when the hook has a timeout, a promise that rejects with TimedOut once it passes.
   * Only hooks that return a promise get here: synchronous hooks never arm a timer.
   */
  #timed<T>(p: Promise<T>, entry: Entry): Promise<T> {
    const ms = entry.timeoutMs === undefined ? this.#hookTimeoutMs : entry.timeoutMs;
    if (ms === undefined || ms === null) return p;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimedOut(ms)), ms);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /**
   * A settle point, after each phase while reactive hooks are registered: gives their async work
   * one microtask turn, awaits the promises they emitted outside the loop's calls (metric
   * events), and raises the first failure of that work, named after its event.
   */
  async #settleReactive(): Promise<void> {
    // A rejection already due inside a pipeline (mergeMap of an async function) lands now,
    // while the step it belongs to is still the current one.
    await undefined;
    for (let pending = this.#pending; pending !== null; pending = this.#pending) {
      this.#pending = null;
      await Promise.all(pending);
    }
    const failure = this.#asyncFailure;
    if (failure !== null) {
      this.#asyncFailure = null;
      this.#fail(failure.entry, phaseOf(failure.event), failure.error, failure.event);
    }
  }

  /**
   * Runs one phase over its hooks in order. Returns a promise only if some hook returned one, so
   * synchronous hooks never pay for a promise.
   */
  #run(hooks: PhaseHooks, event: LifecycleEvent | null): void | Promise<void> {
    const calls = hooks.calls;
    // Nothing to run: the common case for afterBackward, kept cheap.
    if (calls.length === 0 && event === null) return;
    if (event !== null) this.#emit(event);
    for (let i = 0; i < calls.length; i++) {
      let r: unknown;
      try {
        r = calls[i]!(event);
      } catch (e) {
        this.#fail(hooks.entries[i]!, hooks.phase, e, event);
      }
      if (isPromise(r)) return this.#continueAsync(hooks, event, i, r);
    }
  }

  async #continueAsync(hooks: PhaseHooks, event: LifecycleEvent | null, at: number, pending: Promise<unknown>): Promise<void> {
    try {
      await this.#timed(pending, hooks.entries[at]!);
    } catch (e) {
      this.#fail(hooks.entries[at]!, hooks.phase, e, event);
    }
    for (let i = at + 1; i < hooks.calls.length; i++) {
      try {
        const r = hooks.calls[i]!(event);
        if (isPromise(r)) await this.#timed(r, hooks.entries[i]!);
      } catch (e) {
        this.#fail(hooks.entries[i]!, hooks.phase, e, event);
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
    let writer: LogAppender | null = null;
    if (log !== null) {
      // Writers that can run as projections of the log go to its commit thread, off this one.
      const specs = this.hooks.flatMap((h) => h.logProjections());
      this.#projected = new Set(specs.map((s) => s.id));
      const options = { durability: this.options.durability, observer: projectionObserver(specs) };
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
      let r: void | Promise<unknown>;
      try {
        r = entry.feed(e);
      } catch (err) {
        this.#fail(entry, 'metric-recorded', err, e);
      }
      // A put cannot await: the loop awaits the promise at its next settle point.
      if (isPromise(r)) this.#sink.track(entry, e, r);
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
    this.#asyncFailure = null;
    this.#pending = null;
    this.iter = this.startIter = startIter;
    this.maxIter = maxIter;
    let failure: { readonly e: unknown } | null = null;
    try {
      this.#startRun(startIter, maxIter);
      const started: LifecycleEvent = { type: 'train-started', iter: startIter, startIter, maxIter };
      for (const e of this.#entries) {
        if (!(e instanceof ReactiveEntry)) continue;
        try {
          e.start(this.#sink, started);
        } catch (err) {
          this.#fail(e, 'beforeTrain', err, started);
        }
      }
      const r0 = this.#run(this.#byPhase.beforeTrain, started);
      if (r0) await r0;
      if (this.#hasReactive) await this.#settleReactive();
      let lastYield = performance.now();
      // Wall time = the monotonic clock + this offset, re-anchored to Date.now() at every yield:
      // the loop reads one clock per step (a read costs ~0.1-0.2 µs here, several per step add up).
      let wallOffset = Date.now() - lastYield;
      this.#lastStepEnd = lastYield;
      const hasStepEvents = (): boolean => this.#hasReactive || this.#events.observed;
      for (; this.iter < maxIter; this.iter++) {
        const r1 = this.#run(this.#byPhase.beforeStep, hasStepEvents() ? { type: 'step-started', iter: this.iter } : null);
        if (r1) await r1;
        if (this.#hasReactive) await this.#settleReactive();
        const r2 = this.runStep();
        if (r2) await r2;
        if (this.#hasReactive) await this.#settleReactive();
        const r3 = this.#run(this.#byPhase.afterStep, hasStepEvents() ? { type: 'step-completed', iter: this.iter } : null);
        if (r3) await r3;
        if (this.#hasReactive) await this.#settleReactive();
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
      // Let async hook work that is already due land before the outcome is decided.
      if (this.#hasReactive) {
        await new Promise((resolve) => setImmediate(resolve));
        await this.#settleReactive();
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
    const failed = (entry: Entry, e: unknown): void => {
      try {
        this.#fail(entry, 'afterTrain', e, outcome);
      } catch (wrapped) {
        failure ??= { e: wrapped };
      }
    };
    for (let i = 0; i < calls.length; i++) {
      try {
        const r = calls[i]!(outcome);
        if (isPromise(r)) await this.#timed(r, entries[i]!);
      } catch (e) {
        failed(entries[i]!, e);
      }
    }
    // Pipelines may still have work in flight (a mergeMap's promises): complete their input and
    // wait for them to complete, so what fails there fails this run instead of being dropped.
    for (const e of this.#entries) {
      if (!(e instanceof ReactiveEntry)) continue;
      try {
        await this.#timed(e.complete(), e);
      } catch (err) {
        failed(e, err);
      }
    }
    try {
      await this.#settleReactive();
    } catch (wrapped) {
      failure ??= { e: wrapped };
    }
    for (const e of this.#entries) if (e instanceof ReactiveEntry) e.stop();
    // Writers on the log's commit thread made their last write above: wait for it, so that a
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
