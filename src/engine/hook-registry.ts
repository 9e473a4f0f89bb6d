import { HookBase } from './hook-base.js';
import type { LifecycleEvent } from './lifecycle-event.js';
import type { LoopStateRecord } from './loop-state.js';
import type { Failure } from './run-session.js';
import type { TrainerBase } from './trainer-base.js';
import { HookError, HookTimeoutError } from './errors.js';
import { TimedOut, checkTimeout, withTimeout } from './hook-timeout.js';
import { ReactiveEntry, isPromise, type LifecycleBroadcast, type ReactiveHook, type ReactiveSink } from './reactive-hook.js';
import { ClassEntry, PHASES, hookName, phaseHooks, phaseOf, type Entry, type Phase, type PhaseHooks } from './phase-hooks.js';
import { event, type TrainEvent } from '../events/train-event.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/** Removes a registered hook. */
export interface HookHandle {
  remove(): void;
}

/** A hook with options of its own, for `register`. */
export interface HookRegistration {
  readonly hook: HookBase | ReactiveHook;
  /** Overrides TrainerOptions.hookTimeoutMs for this hook; null: no limit for it. */
  readonly hookTimeoutMs?: number | null;
}

/** A reactive pipeline's failure outside the loop's call to it, with the event it belongs to. */
interface AsyncFailure {
  readonly entry: ReactiveEntry;
  readonly event: LifecycleEvent;
  readonly error: unknown;
}

/**
 * The trainer's hooks (class and reactive) in registration order: runs a phase over them,
 * awaits what they return (within their hookTimeoutMs), and turns what they throw into a
 * HookError recorded in the log (`hook-failed`).
 */
export class HookRegistry {
  #entries: Entry[] = [];
  #byPhase!: Readonly<Record<Phase, PhaseHooks>>; // set by #reindex, from the constructor on
  #hasReactive = false;
  /** A reactive pipeline's failure outside the loop's call to it: raised at the next settle point. */
  #asyncFailure: AsyncFailure | null = null;
  /** Promises of reactive hooks the loop has yet to await (they never reject: see track). */
  #pending: Promise<void>[] | null = null;
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

  constructor(
    private readonly trainer: TrainerBase,
    private readonly state: LoopStateRecord,
    private readonly broadcast: LifecycleBroadcast,
    /** TrainerOptions.hookTimeoutMs: for hooks registered without one of their own. */
    private readonly timeoutMs: number | undefined,
  ) {
    this.#reindex();
  }

  /** Whether a reactive hook is registered (the loop then has settle points). */
  get hasReactive(): boolean {
    return this.#hasReactive;
  }

  /** Whether lifecycle events have a receiver (a reactive hook, an observer of events$). */
  readonly listening = (): boolean => this.#hasReactive || this.broadcast.observed;

  /** See TrainerBase.register; `training`: a train() call is under way. */
  register(items: ReadonlyArray<HookBase | ReactiveHook | HookRegistration | null | undefined>, training: boolean): HookHandle {
    const added: Entry[] = [];
    for (const item of items) {
      if (item === null || item === undefined) continue;
      let h: unknown = item;
      let timeoutMs: number | null | undefined;
      if (typeof item === 'object' && !(item instanceof HookBase)) {
        h = item.hook;
        timeoutMs = item.hookTimeoutMs;
        if (timeoutMs !== undefined && timeoutMs !== null) checkTimeout(timeoutMs, 'register(): hookTimeoutMs');
      }
      if (h instanceof HookBase) {
        h.attach(this.trainer);
        added.push(new ClassEntry(h, timeoutMs));
      } else if (typeof h === 'function') {
        added.push(new ReactiveEntry(h as ReactiveHook, timeoutMs));
      } else {
        throw new InvalidArgumentError(`register() takes HookBase instances, functions (reactive hooks) or { hook, hookTimeoutMs }, got ${h === null ? 'null' : typeof h}`);
      }
    }
    this.#entries = [...this.#entries, ...added];
    this.#reindex();
    if (training) {
      const { iter, startIter, maxIter } = this.state;
      for (const e of added) if (e instanceof ReactiveEntry) e.start(this.#sink, { type: 'train-started', iter, startIter, maxIter });
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

  /** A new train() call: what reactive work of an earlier one left is forgotten. */
  reset(): void {
    this.#asyncFailure = null;
    this.#pending = null;
  }

  /** Subscribes the reactive pipelines, then runs the beforeTrain phase with `started`. */
  beforeTrain(started: LifecycleEvent): void | Promise<void> {
    for (const e of this.#entries) {
      if (!(e instanceof ReactiveEntry)) continue;
      try {
        e.start(this.#sink, started);
      } catch (err) {
        this.#fail(e, 'beforeTrain', err, started);
      }
    }
    return this.run('beforeTrain', started);
  }

  /**
   * Runs one phase over its hooks in order. Returns a promise only if some hook returned one, so
   * synchronous hooks never pay for a promise.
   */
  run(phase: Exclude<Phase, 'afterTrain'>, event: LifecycleEvent | null): void | Promise<void> {
    const hooks = this.#byPhase[phase];
    const calls = hooks.calls;
    // Nothing to run: the common case for afterBackward, kept cheap.
    if (calls.length === 0 && event === null) return;
    if (event !== null) this.broadcast.emit(event);
    for (let i = 0; i < calls.length; i++) {
      let r: unknown;
      try {
        r = calls[i]!(event);
      } catch (e) {
        this.#fail(hooks.entries[i]!, phase, e, event);
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

  /** What the storage tells of each event put: a scalar becomes a `metric-recorded` event. */
  readonly onStorageEvent = (e: TrainEvent): void => {
    if (e.type === 'scalar' && this.listening()) {
      this.#feedMetric({ type: 'metric-recorded', iter: e.data.iter, name: e.data.name, value: e.data.value });
    }
  };

  /** Delivers a metric event to reactive hooks outside the phase loop (from inside a put). */
  #feedMetric(e: LifecycleEvent): void {
    this.broadcast.emit(e);
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
   * A settle point, after each phase while reactive hooks are registered: gives their async work
   * one microtask turn, awaits the promises they emitted outside the loop's calls (metric
   * events), and raises the first failure of that work, named after its event.
   */
  async settle(): Promise<void> {
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

  /** A settle point after the loop: async work already due (a timer of 0 ms) lands first. */
  async settleDue(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await this.settle();
  }

  /**
   * afterTrain for every hook (even when one throws), then waits for the reactive pipelines to
   * complete and unsubscribes them. Returns `failure`, or the first failure found here.
   */
  async afterTrain(outcome: LifecycleEvent, failure: Failure): Promise<Failure> {
    this.broadcast.emit(outcome);
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
      await this.settle();
    } catch (wrapped) {
      failure ??= { e: wrapped };
    }
    for (const e of this.#entries) if (e instanceof ReactiveEntry) e.stop();
    return failure;
  }

  /**
   * Records a hook's failure (`hook-failed`) and throws it as a HookError. A reactive hook's
   * failure is named after the event it belongs to (`delivered`), whose step may be over.
   */
  #fail(entry: Entry, phase: string, error: unknown, delivered: LifecycleEvent | null = null): never {
    if (error instanceof HookError) throw error;
    const name = hookName(entry);
    const reactive = entry instanceof ReactiveEntry && delivered !== null;
    const at = reactive ? phaseOf(delivered) : phase;
    const iter = reactive ? delivered.iter : this.state.iter;
    const type = reactive ? delivered.type : null;
    const err = error instanceof TimedOut ? new HookTimeoutError(name, at, iter, error.ms, type) : new HookError(name, at, iter, error, { event: type });
    const stack = (error instanceof TimedOut ? err : (error as Error))?.stack;
    this.state.storage.append(event('hook-failed', { hook: name, phase: at, iter, message: err.message, stack }));
    throw err;
  }

  #timed<T>(p: Promise<T>, entry: Entry): Promise<T> {
    return withTimeout(p, entry.timeoutMs === undefined ? this.timeoutMs : entry.timeoutMs);
  }
}
