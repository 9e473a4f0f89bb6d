import { Subject, type Observable, type Subscription } from 'rxjs';
import type { LifecycleEvent } from './lifecycle-event.js';

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

/** What a reactive pipeline does outside the loop's call to it, handed to the trainer. */
export interface ReactiveSink {
  /** It errored between feeds, while `event` was the last it had been fed. */
  failed(entry: ReactiveEntry, event: LifecycleEvent, error: unknown): void;
  /** It emitted a promise the loop must await, for `event`. */
  track(entry: ReactiveEntry, event: LifecycleEvent, promise: Promise<unknown>): void;
}

/**
 * A registered reactive hook: its pipeline, subscribed for each `train()`, fed the lifecycle
 * events, and what it raised or emitted on its own time handed to the sink.
 */
export class ReactiveEntry {
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

/** Whether a hook returned (or a pipeline emitted) something the loop must await. */
export function isPromise(v: unknown): v is Promise<unknown> {
  return v !== undefined && v !== null && typeof (v as Promise<unknown>).then === 'function';
}

/**
 * The lifecycle as an observable for observers (`trainer.events$`): an event is built and sent
 * only while someone listens.
 */
export class LifecycleBroadcast {
  readonly #events = new Subject<LifecycleEvent>();
  readonly events$: Observable<LifecycleEvent> = this.#events.asObservable();

  /** Whether anyone subscribed to events$. */
  get observed(): boolean {
    return this.#events.observed;
  }

  emit(e: LifecycleEvent): void {
    if (this.#events.observed) this.#events.next(e);
  }
}
